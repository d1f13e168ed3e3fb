package revproxy.cli;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import revproxy.cluster.Roles;
import revproxy.node.NodeGuardian;
import revproxy.worker.WorkerSettings;
import revproxy.worker.WorkerSpec;

@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Run a worker node: it joins the cluster and, once Up, starts HashWorkers that register",
      "with the receptionist under their policy, so the proxy finds them wherever they run."
    })
public final class WorkerCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--worker",
      paramLabel = "ID:POLICY",
      split = ",",
      required = true,
      converter = WorkerSpecConverter.class,
      description = "A worker to run, e.g. 100:111 = worker 100 serving policy 111 (repeatable).")
  List<WorkerSpec> workers;

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() throws InterruptedException {
    WorkerSpec.requireDistinctIds(workers);
    Config config = cluster.nodeConfig("worker", Roles.WORKER).build();
    // Bad settings are a command-line error (exit 2) before anything starts, not a failed node.
    ClusterOptions.requireDistinctPorts(config, null);
    WorkerSettings.fromConfig(config);
    if (cluster.check()) {
      return ConfigCheck.print(
          spec.commandLine().getOut(),
          "worker",
          config,
          true,
          "cluster-tls",
          "management",
          "worker");
    }
    while (true) {
      ActorSystem<?> system = Nodes.start(NodeGuardian.create(config, workers), config);
      int status = Nodes.awaitTermination(system);
      if (!Nodes.shouldRejoin(system)) {
        return status;
      }
      LoggerFactory.getLogger(WorkerCommand.class)
          .warn(
              "Worker node stopped ({}); starting it again to rejoin the cluster",
              Nodes.shutdownReason(system));
    }
  }

  static final class WorkerSpecConverter implements picocli.CommandLine.ITypeConverter<WorkerSpec> {
    @Override
    public WorkerSpec convert(String value) {
      try {
        return WorkerSpec.parse(value);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
