package revproxy.ops;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import revproxy.proxy.RouterActor;
import revproxy.proxy.RoutingTable;

/**
 * The product's routes on the management endpoint, beside akka-management's own ({@code /alive},
 * {@code /ready}, {@code /cluster/members}): {@code /metrics} in Prometheus text format, and {@code
 * /routing}, the proxy's policies and routees as JSON (like Envoy's {@code /clusters}).
 */
public final class ManagementRoutes extends AllDirectives implements ManagementRouteProvider {

  private static final Duration ROUTING_TIMEOUT = Duration.ofSeconds(3);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final PrometheusTextFormatWriter prometheus = PrometheusTextFormatWriter.create();

  /** Created by akka-management from {@code akka.management.http.routes}. */
  public ManagementRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return concat(
        path("metrics", () -> get(() -> complete(metrics()))),
        path("routing", () -> get(this::routing)));
  }

  private HttpResponse metrics() {
    ByteArrayOutputStream text = new ByteArrayOutputStream(16 * 1024);
    try {
      prometheus.write(text, Metrics.get(system).registry().scrape());
    } catch (IOException impossible) {
      throw new UncheckedIOException(impossible);
    }
    return HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, text.toByteArray()));
  }

  private Route routing() {
    ActorRef<RouterActor.Command> router = NodeStatus.get(system).router();
    if (router == null) {
      return complete(StatusCodes.NOT_FOUND, "this node runs no proxy: it has no routing table\n");
    }
    CompletionStage<RoutingTable> table =
        AskPattern.ask(router, RouterActor.GetRouting::new, ROUTING_TIMEOUT, system.scheduler());
    return onSuccess(
        table,
        routes ->
            complete(
                HttpResponse.create()
                    .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json(routes)))));
  }

  private static String json(RoutingTable table) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(table) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a routing table is plain data", e);
    }
  }
}
