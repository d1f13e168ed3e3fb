package revproxy;

import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import revproxy.cli.BenchCommand;
import revproxy.cli.ClientCommand;
import revproxy.cli.DemoCommand;
import revproxy.cli.ProxyCommand;
import revproxy.cli.ServerCommand;
import revproxy.cli.StatusCommand;
import revproxy.cli.WorkerCommand;

/** Entry point of the fat jar: one subcommand per role. */
@Command(
    name = "akka-reverse-proxy",
    mixinStandardHelpOptions = true,
    version = "akka-reverse-proxy 0.1.0",
    description = "A distributed, policy-routing TCP reverse proxy on an Akka cluster.",
    subcommands = {
      ProxyCommand.class,
      WorkerCommand.class,
      ClientCommand.class,
      DemoCommand.class,
      ServerCommand.class,
      BenchCommand.class,
      StatusCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // Start Logback before Akka does, or SLF4J warns that it replays early log calls.
    LoggerFactory.getILoggerFactory();
    System.exit(commandLine().execute(args));
  }

  /** The command line with readable errors: bad input is a message and exit status 2. */
  public static CommandLine commandLine() {
    return new CommandLine(new Main())
        .setExecutionExceptionHandler(
            (exception, commandLine, parseResult) -> {
              if (exception instanceof IllegalArgumentException
                  || exception instanceof com.typesafe.config.ConfigException) {
                commandLine.getErr().println("error: " + exception.getMessage());
                return 2;
              }
              throw exception;
            });
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a role is required: one of "
            + String.join(", ", spec.subcommands().keySet()).replace(", help", ""));
  }
}
