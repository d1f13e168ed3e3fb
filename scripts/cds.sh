#!/usr/bin/env bash
# Class-data sharing (AppCDS) archive for the fat jar: a node started with it loads its classes
# (Akka, Scala, Jackson: some 9,000 of them) mapped from the archive instead of parsing and
# verifying them from the jar, and starts in about half the time (docs/RELIABILITY.md,
# "Start time"). That is what lets a restarted node serve again within seconds.
#
#   scripts/cds.sh [JAR]        writes JAR's archive, JAR with .jsa for .jar
#                               (default target/akka-reverse-proxy.jar -> target/akka-reverse-proxy.jsa)
#
# Use it: java -XX:SharedArchiveFile=target/akka-reverse-proxy.jsa -jar target/akka-reverse-proxy.jar ...
#
# The archive is made by a training run of the jar's in-JVM demo (a proxy, two worker nodes and
# the client, on ports 0: any free ones) with -XX:ArchiveClassesAtExit; about 15 s. It holds the
# classes the run loaded, for this JVM and this jar only: after a rebuild of the jar or another
# JDK, the JVM prints one warning ("Unable to use shared archive") and starts without it, as
# slowly as before; make it again then (scripts that use it do, see lib_cds_options in lib.sh).
# Exit status: 0, or 1 with the reason when the training run failed (no archive is left then).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

case ${1:-} in
  -h | --help)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
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
# -Xlog: the dump's per-class notes ("Skipping ... JFR event class", old class files) are noise.
if ! java -XX:ArchiveClassesAtExit="$TMP" -Xlog:cds=off -Xlog:cds+dynamic=off -jar "$JAR" demo --port 0 >"$LOG" 2>&1; then
  die "the training run failed (see $LOG): no archive made"
fi
[[ -s $TMP ]] || die "the JVM wrote no archive (see $LOG)"
mv -f "$TMP" "$ARCHIVE"
echo "Made $ARCHIVE ($(du -m "$ARCHIVE" | cut -f1) MB): start nodes with -XX:SharedArchiveFile=$ARCHIVE"
