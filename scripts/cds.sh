#!/usr/bin/env bash
# Class-data sharing (AppCDS) archive for the fat jar: a node started with it maps most of its
# classes (Akka, Scala, Jackson: some 6,500 of the 7,800 a worker node loads) from the archive
# instead of parsing and verifying them from the jar, and starts with 25-40% less time and CPU
# (docs/RELIABILITY.md, "Start time"): a restarted node serves again sooner.
#
#   scripts/cds.sh [JAR]        writes JAR's archive, JAR with .jsa for .jar
#                               (default target/akka-reverse-proxy.jar -> target/akka-reverse-proxy.jsa)
#
# Use it: java -XX:SharedArchiveFile=target/akka-reverse-proxy.jsa -jar target/akka-reverse-proxy.jar ...
#
# The archive is made by a training run of the jar's in-JVM demo (a proxy, two worker nodes and
# the client, on ports 0: any free ones) with -XX:ArchiveClassesAtExit; about 15 s. It holds the
# classes the run loaded (not the management endpoint's: the demo has none), for the java on PATH
# and this jar, named as given (the nodes must name it the same way, relative to the repository
# root or absolute). After a rebuild of the jar or another JDK, the JVM prints one warning
# ("Unable to use shared archive") and starts without it, as slowly as before: make it again then
# (the scripts that use it do after a rebuild, see lib_cds_options in lib.sh). Never name an
# archive that does not exist: the JVM then maps not even the JDK's own.
# Exit status: 0; 1 with the reason when the training run failed (an older archive is kept); the
# training run's own status when it was interrupted (130 for Ctrl-C).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

case ${1:-} in
  -h | --help)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
JAR=${1:-target/akka-reverse-proxy.jar}
[[ -f $JAR ]] || die "$JAR not found: build it first (mvn -B -Dmaven.test.skip=true package)"
ARCHIVE=${JAR%.jar}.jsa
TMP=$ARCHIVE.tmp.$$
LOG=$ARCHIVE.log
trap 'rm -f "$TMP"' EXIT
echo "Making $ARCHIVE (a training run of the demo; its output in $LOG) ..."
# -Xlog: the dump's per-class warnings ("Skipping ... JFR event class", old class files) are
# noise; its errors are not.
status=0
java -XX:ArchiveClassesAtExit="$TMP" -Xlog:cds=error -Xlog:cds+dynamic=error -jar "$JAR" demo --port 0 >"$LOG" 2>&1 || status=$?
((status < 128)) || exit "$status"
((status == 0)) || die "the training run failed (exit status $status, see $LOG): no archive made"
[[ -s $TMP ]] || die "the JVM wrote no archive (see $LOG)"
mv -f "$TMP" "$ARCHIVE"
echo "Made $ARCHIVE ($(du -m "$ARCHIVE" | cut -f1) MB): start nodes with -XX:SharedArchiveFile=$ARCHIVE"
