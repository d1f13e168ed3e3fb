package revproxy.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import revproxy.cluster.NodeConfig;

/**
 * The {@code --config FILE} and {@code --check} options every role takes, and the configuration it
 * starts from.
 */
public final class ConfigOption {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file read over ./application.conf and the defaults.")
  Path file;

  @Option(
      names = "--check",
      description = {
        "Check the configuration and the options, print the settings this would run with, and",
        "exit: 0, or 2 with the error. Nothing is started."
      })
  boolean check;

  NodeConfig nodeConfig() {
    return NodeConfig.create().file(file);
  }
}
