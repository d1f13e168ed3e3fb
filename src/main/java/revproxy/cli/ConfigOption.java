package revproxy.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import revproxy.cluster.NodeConfig;

/** The {@code --config FILE} option every role takes, and the configuration it starts from. */
public final class ConfigOption {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file read over ./application.conf and the defaults.")
  Path file;

  NodeConfig nodeConfig() {
    return NodeConfig.create().file(file);
  }
}
