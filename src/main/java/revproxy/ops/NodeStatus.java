package revproxy.ops;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import revproxy.proxy.RouterActor;

/**
 * What the management endpoint needs to know of this node, set by the node's parts as they start:
 * whether its proxy listens, whether its workers are registered, and the proxy's router (for {@code
 * /routing}). One per actor system.
 */
public final class NodeStatus implements Extension {

  private static final Id ID = new Id();

  private static final class Id extends ExtensionId<NodeStatus> {
    @Override
    public NodeStatus createExtension(ActorSystem<?> system) {
      return new NodeStatus();
    }
  }

  public static NodeStatus get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private volatile ActorRef<RouterActor.Command> router;
  private volatile boolean proxyListening;
  private volatile boolean workersRegistered;

  private NodeStatus() {}

  /** The proxy's router, once it runs; null on a node without one. */
  public ActorRef<RouterActor.Command> router() {
    return router;
  }

  public void routerStarted(ActorRef<RouterActor.Command> router) {
    this.router = router;
  }

  public boolean proxyListening() {
    return proxyListening;
  }

  public void proxyListening(boolean listening) {
    this.proxyListening = listening;
  }

  public boolean workersRegistered() {
    return workersRegistered;
  }

  public void workersRegistered(boolean registered) {
    this.workersRegistered = registered;
  }
}
