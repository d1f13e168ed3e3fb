package revproxy.cluster;

/** The cluster roles a node carries; the node's guardian branches on them. */
public final class Roles {

  /** Serves clients: the TCP binding, the router, the legacy registry. */
  public static final String PROXY = "proxy";

  /** Runs HashWorkers. */
  public static final String WORKER = "worker";

  private Roles() {}
}
