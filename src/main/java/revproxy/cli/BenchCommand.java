package revproxy.cli;

import com.typesafe.config.Config;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import revproxy.bench.BenchResult;
import revproxy.bench.BenchSettings;
import revproxy.bench.LoadGenerator;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Load the proxy (or any server of the wire protocol) like wrk, and verify every reply:",
      "type \"2\", destid = the request's srcid, payload = SHA-1 of the payload sent.",
      "Closed loop (each connection keeps --pipeline requests in flight) or open loop (--rate:",
      "requests at scheduled times, latency counted from the scheduled time). Reports req/s,",
      "latency percentiles and every failure; exit status 0 only if every reply verified and",
      "nothing failed, 1 otherwise, 2 for bad options."
    })
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description = "Server address (default 127.0.0.1).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      converter = OptionValues.Port.class,
      description = "Server port (default 2100).")
  Integer port;

  @Option(
      names = "--proxy",
      paramLabel = "HOST:PORT",
      split = ",",
      converter = HostPort.Converter.class,
      description = {
        "A proxy to load instead of --host/--port (repeatable or comma-separated): the",
        "connections are spread over them; when one fails or breaks, it reconnects to the next",
        "and resends the requests without a reply (hashing is idempotent)."
      })
  List<HostPort> proxies;

  @Option(
      names = {"--connections", "-c"},
      paramLabel = "N",
      description = "Connections that send requests (default 64).")
  Integer connections;

  @Option(
      names = {"--pipeline", "-p"},
      paramLabel = "N",
      description = "Requests in flight per connection at most (default 1).")
  Integer pipeline;

  @Option(
      names = {"--duration", "-d"},
      paramLabel = "DURATION",
      converter = OptionValues.Duration.class,
      description = "How long to measure after the warmup, e.g. 30s (default 30s).")
  String duration;

  @Option(
      names = {"--requests", "-n"},
      paramLabel = "N",
      description = "Send exactly N requests after the warmup instead of running for a duration.")
  Long requests;

  @Option(
      names = {"--rate", "-R"},
      paramLabel = "REQ_PER_S",
      description =
          "Open loop: this many requests per second over all connections (default: closed loop).")
  Double rate;

  @Option(names = "--payload-bytes", paramLabel = "N", description = "Payload length (default 16).")
  Integer payloadBytes;

  @Option(
      names = "--policies",
      paramLabel = "ID",
      split = ",",
      converter = OptionValues.Id.class,
      description = "Policy ids used round robin (default 111,222).")
  List<String> policies;

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      converter = OptionValues.Duration.class,
      description = "Load before measuring, left out of the numbers (default 5s).")
  String warmup;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = OptionValues.Duration.class,
      description =
          "A reply later than this is a timeout; also the drain time at the end (default 10s).")
  String timeout;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description =
          "Selector threads for the connections (default 1: the generator shares the CPU).")
  Integer threads;

  @Option(
      names = "--idle-connections",
      paramLabel = "N",
      description = "Also open N connections that send nothing and must stay open (default 0).")
  Integer idleConnections;

  @Option(
      names = "--tls",
      paramLabel = "DIR",
      description = {
        "Connect with TLS, as the client does: the server's certificate must be of DIR's CA;",
        "DIR's node.p12, if present, is the client certificate."
      })
  Path tls;

  @Option(names = "--json", description = "Print one JSON object instead of the report.")
  boolean json;

  @Option(
      names = "--progress",
      description = {
        "Print the progress line every second on stderr also when it is not a terminal",
        "(seconds since the clock started, phase, req/s, replies, failed)."
      })
  boolean progress;

  @Mixin ConfigOption configOption;

  @Override
  public Integer call() throws InterruptedException {
    Logging.warningsOnly();
    if (duration != null && requests != null) {
      throw new IllegalArgumentException("give --duration or --requests, not both");
    }
    Config config =
        configOption
            .nodeConfig()
            .set("revproxy.bench.host", host)
            .set("revproxy.bench.port", port)
            .set(
                "revproxy.bench.proxies",
                proxies == null ? null : proxies.stream().map(HostPort::toString).toList())
            .set("revproxy.bench.connections", connections)
            .set("revproxy.bench.pipeline", pipeline)
            .set("revproxy.bench.duration", duration)
            .set("revproxy.bench.requests", requests)
            .set("revproxy.bench.rate", rate)
            .set("revproxy.bench.payload-bytes", payloadBytes)
            .set("revproxy.bench.policies", policies)
            .set("revproxy.bench.warmup", warmup)
            .set("revproxy.bench.timeout", timeout)
            .set("revproxy.bench.threads", threads)
            .set("revproxy.bench.idle-connections", idleConnections)
            .set("revproxy.bench.tls", Objects.toString(tls, null))
            .build();
    BenchSettings settings = BenchSettings.fromConfig(config);
    if (configOption.check) {
      return ConfigCheck.print(spec.commandLine().getOut(), "bench", config, false, "bench");
    }
    // Progress lines for a person at a terminal, or when asked for, on stderr: stdout is the
    // report.
    PrintWriter progressLines =
        progress || System.console() != null ? spec.commandLine().getErr() : null;
    BenchResult result = LoadGenerator.run(settings, progressLines);
    spec.commandLine()
        .getOut()
        .print(json ? result.json() + System.lineSeparator() : result.text());
    spec.commandLine().getOut().flush();
    return result.exitCode();
  }
}
