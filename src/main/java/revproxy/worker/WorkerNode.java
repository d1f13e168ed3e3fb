package revproxy.worker;

import akka.actor.Address;
import akka.actor.AddressFromURIString;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import akka.cluster.typed.Subscribe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import revproxy.cluster.Roles;
import revproxy.ops.NodeStatus;
import revproxy.routee.Routee;

/**
 * The worker part of a node (a child of the node's guardian, on worker nodes and on a proxy with
 * local workers alike). As soon as this node is WeaklyUp or Up, it starts one {@link HashWorker}
 * per {@link WorkerSpec}; each registers itself with the receptionist. WeaklyUp matters: a node
 * that joins while another is unreachable (a crashed node not yet downed) cannot become Up, yet it
 * is a full member of the receptionist's replicated registry and can serve at once.
 *
 * <p>On shutdown it leaves gracefully ({@link GracefulLeave}). While running, it watches the seeds
 * (or, without seeds, as when nodes are joined by hand, the proxies): a node that has seen none of
 * them reachable for {@code seeds-lost-timeout} downs itself, and its command starts it again to
 * join the seeds (a proxy that restarted alone formed a new cluster; the old one would otherwise
 * keep its workers). With several proxies as seeds, losing one of them is nothing to act on. A
 * bootstrapping node does not watch at all: there a restarted proxy joins the workers' cluster, and
 * a worker node that left it to rejoin would find no cluster to join. Nor does a proxy with local
 * workers: it would see no proxy but itself and down the proxy.
 */
public final class WorkerNode {

  public interface Command {}

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record WorkerRegistered(Receptionist.Registered ack) implements Command {}

  private enum CheckSeeds implements Command {
    INSTANCE
  }

  private static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

  private WorkerNode() {}

  public static Behavior<Command> create(List<WorkerSpec> workers, WorkerSettings settings) {
    return Behaviors.setup(
        context -> {
          Cluster cluster = Cluster.get(context.getSystem());
          if (serving(cluster.selfMember().status())) {
            return startWorkers(context, workers, settings);
          }
          cluster
              .subscriptions()
              .tell(
                  Subscribe.create(
                      context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new),
                      ClusterEvent.MemberEvent.class));
          return Behaviors.receive(Command.class)
              .onMessage(
                  MemberChanged.class,
                  changed ->
                      changed
                                  .event()
                                  .member()
                                  .uniqueAddress()
                                  .equals(cluster.selfMember().uniqueAddress())
                              && serving(changed.event().member().status())
                          ? startWorkers(context, workers, settings)
                          : Behaviors.same())
              .build();
        });
  }

  private static boolean serving(MemberStatus status) {
    return status == MemberStatus.weaklyUp() || status == MemberStatus.up();
  }

  private static Behavior<Command> startWorkers(
      ActorContext<Command> context, List<WorkerSpec> workers, WorkerSettings settings) {
    context
        .getLog()
        .info(
            "Node is {}; starting workers {}",
            Cluster.get(context.getSystem()).selfMember().status(),
            workers);
    ActorRef<Receptionist.Registered> acks =
        context.messageAdapter(Receptionist.Registered.class, WorkerRegistered::new);
    List<GracefulLeave.Worker> started = new ArrayList<>();
    Set<ActorRef<?>> unacknowledged = new HashSet<>();
    for (WorkerSpec worker : workers) {
      ActorRef<Routee.Command> ref =
          context.spawn(
              HashWorker.create(worker.id(), worker.policyId(), acks), "worker-" + worker.id());
      started.add(new GracefulLeave.Worker(worker, ref));
      unacknowledged.add(ref);
    }
    GracefulLeave.register(context.getSystem(), started, settings);
    Set<Address> seeds = seeds(context);
    // A proxy with local workers is the cluster its clients use: it never leaves it to rejoin.
    boolean selfIsProxy = Cluster.get(context.getSystem()).selfMember().hasRole(Roles.PROXY);
    return Behaviors.withTimers(
        timers -> {
          if (settings.seedsLostTimeout().isPresent() && !selfIsProxy) {
            timers.startTimerWithFixedDelay(CheckSeeds.INSTANCE, CHECK_INTERVAL);
          }
          return watchingSeeds(context, settings, seeds, System.nanoTime(), unacknowledged);
        });
  }

  /** The configured seed nodes other than this one (none with Cluster Bootstrap). */
  private static Set<Address> seeds(ActorContext<Command> context) {
    Set<Address> seeds = new HashSet<>();
    for (String seed :
        context.getSystem().settings().config().getStringList("akka.cluster.seed-nodes")) {
      seeds.add(AddressFromURIString.parse(seed));
    }
    seeds.remove(Cluster.get(context.getSystem()).selfMember().address());
    return seeds;
  }

  /** The receptionist has a worker: once it has all of them, the node is ready. */
  private static void acknowledged(
      ActorContext<Command> context, Receptionist.Registered ack, Set<ActorRef<?>> unacknowledged) {
    if (unacknowledged.remove(ack.getServiceInstance(ack.getKey())) && unacknowledged.isEmpty()) {
      NodeStatus.get(context.getSystem()).workersRegistered(true);
      context.getLog().info("Workers registered with the receptionist: this node is ready");
    }
  }

  private static Behavior<Command> watchingSeeds(
      ActorContext<Command> context,
      WorkerSettings settings,
      Set<Address> seeds,
      long lastSeenNanos,
      Set<ActorRef<?>> unacknowledged) {
    return Behaviors.receive(Command.class)
        .onMessage(
            WorkerRegistered.class,
            registered -> {
              acknowledged(context, registered.ack(), unacknowledged);
              return Behaviors.same();
            })
        .onMessage(
            CheckSeeds.class,
            check -> {
              long now = System.nanoTime();
              Cluster cluster = Cluster.get(context.getSystem());
              if (aSeedIsReachable(cluster, seeds)) {
                return watchingSeeds(context, settings, seeds, now, unacknowledged);
              }
              Duration timeout = settings.seedsLostTimeout().orElseThrow();
              if (Duration.ofNanos(now - lastSeenNanos).compareTo(timeout) < 0) {
                return Behaviors.same();
              }
              context
                  .getLog()
                  .warn(
                      "No seed node reachable for {} s ({}): restarting this node to join the seeds"
                          + " again",
                      timeout.toSeconds(),
                      seeds.isEmpty() ? "no seeds configured, so the proxies" : seeds);
              // Leaving gracefully cannot complete while the seeds are unreachable: this node
              // downs itself, which shuts it down at once (for the command to restart it).
              cluster.manager().tell(new Down(cluster.selfMember().address()));
              return Behaviors.ignore();
            })
        .onMessage(MemberChanged.class, changed -> Behaviors.same())
        .build();
  }

  /** Whether a seed (or, without seeds, a proxy) is a reachable member, other than this node. */
  private static boolean aSeedIsReachable(Cluster cluster, Set<Address> seeds) {
    ClusterEvent.CurrentClusterState state = cluster.state();
    for (Member member : state.getMembers()) {
      boolean candidate =
          seeds.isEmpty() ? member.hasRole(Roles.PROXY) : seeds.contains(member.address());
      if (candidate
          && !member.equals(cluster.selfMember())
          && member.status() != MemberStatus.down()
          && member.status() != MemberStatus.removed()
          && !state.getUnreachable().contains(member)) {
        return true;
      }
    }
    return false;
  }
}
