package revproxy;

import com.typesafe.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;
import revproxy.cli.BenchCommand;
import revproxy.cli.ClientCommand;
import revproxy.cli.DemoCommand;
import revproxy.cli.Logging;
import revproxy.cli.OptionValues;
import revproxy.cli.ProxyCommand;
import revproxy.cli.ServerCommand;
import revproxy.cli.StatusCommand;
import revproxy.cli.WorkerCommand;
import revproxy.util.Completions;
import revproxy.util.Suggestions;

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

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      scope = ScopeType.INHERIT,
      converter = Logging.FormatConverter.class,
      description = "Log lines on stderr as text (default) or json: one JSON object per line.")
  void logFormat(Logging.Format format) {
    Logging.use(format);
  }

  public static void main(String[] args) {
    // Start Logback before Akka does, or SLF4J warns that it replays early log calls.
    LoggerFactory.getILoggerFactory();
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line with readable errors. A bad command line or configuration is one {@code
   * error:} line, a pointer to the role's help, and exit status 2, never a usage dump; anything
   * else that stops a command is one {@code error:} line and exit status 1, never a stack trace (it
   * is logged at DEBUG).
   */
  public static CommandLine commandLine() {
    return new CommandLine(new Main())
        .registerConverter(Integer.class, new OptionValues.WholeNumber())
        .registerConverter(Long.class, new OptionValues.LongWholeNumber())
        .registerConverter(Double.class, new OptionValues.Number())
        .setParameterExceptionHandler(
            (exception, args) -> usageError(exception.getCommandLine(), message(exception)))
        .setExecutionExceptionHandler(
            (exception, commandLine, parseResult) -> {
              if (exception instanceof IllegalArgumentException
                  || exception instanceof ConfigException) {
                return usageError(commandLine, exception.getMessage());
              }
              LoggerFactory.getLogger(Main.class)
                  .debug("{} failed", commandLine.getCommandName(), exception);
              commandLine.getErr().println("error: " + Completions.rootMessage(exception));
              return 1;
            });
  }

  private static int usageError(CommandLine commandLine, String message) {
    commandLine.getErr().println("error: " + message);
    commandLine
        .getErr()
        .println("try '" + commandLine.getCommandSpec().qualifiedName() + " --help'");
    return 2;
  }

  /** A bad value is "OPTION: what is wrong"; a mistyped option says which one was meant. */
  private static String message(ParameterException exception) {
    ArgSpec arg = exception.getArgSpec();
    if (exception.getCause() instanceof TypeConversionException conversion && arg != null) {
      String name =
          arg instanceof OptionSpec option
              ? option.names()[0]
              : ((PositionalParamSpec) arg).paramLabel();
      return name + ": " + conversion.getMessage();
    }
    if (exception instanceof UnmatchedArgumentException unmatched) {
      CommandSpec command = exception.getCommandLine().getCommandSpec();
      List<String> known = new ArrayList<>(command.subcommands().keySet());
      // Not the one-letter ones (-h, -V): two edits turn any short typo into one of them.
      command.options().stream()
          .flatMap(option -> Stream.of(option.names()))
          .filter(name -> name.length() > 2)
          .forEach(known::add);
      String typed = unmatched.getUnmatched().get(0).split("=", 2)[0];
      return exception.getMessage()
          + Suggestions.closest(typed, known)
              .map(name -> " (did you mean " + name + "?)")
              .orElse("");
    }
    return exception.getMessage();
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a role is required: one of "
            + String.join(", ", spec.subcommands().keySet()).replace(", help", ""));
  }
}
