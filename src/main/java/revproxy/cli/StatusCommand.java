package revproxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import revproxy.ops.StatusReport;
import revproxy.util.Completions;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show the cluster's members (address, roles, status, reachability) and the proxy's policy",
      "table (each policy's workers, their nodes and states), read from a node's management",
      "endpoint. Exit status 0, or 1 if the endpoint cannot be reached."
    })
public final class StatusCommand implements Callable<Integer> {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(
      names = "--management",
      paramLabel = "HOST:PORT",
      converter = HostPort.Converter.class,
      description = "The management endpoint to ask (default 127.0.0.1:8558, a proxy's).")
  HostPort management = new HostPort("127.0.0.1", 8558);

  @Option(names = "--json", description = "Print one JSON object instead of the tables.")
  boolean json;

  @Override
  public Integer call() throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    String base = "http://" + management + "/";
    JsonNode members;
    JsonNode routing;
    try {
      members = JSON.readTree(fetch(http, base + "cluster/members", true));
      String table = fetch(http, base + "routing", false);
      routing = table == null ? null : JSON.readTree(table);
    } catch (IOException e) {
      spec.commandLine()
          .getErr()
          .println(
              "error: cannot read the management endpoint at "
                  + management
                  + ": "
                  + Completions.rootMessage(e));
      return 1;
    }
    StatusReport report = new StatusReport(members, routing);
    spec.commandLine().getOut().print(json ? report.json() : report.text());
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** The body of a 200 answer; null for a 404 that is allowed, else an IOException. */
  private static String fetch(HttpClient http, String url, boolean required)
      throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() == 200) {
      return response.body();
    }
    if (response.statusCode() == 404 && !required) {
      return null;
    }
    throw new IOException(url + " answered HTTP " + response.statusCode());
  }
}
