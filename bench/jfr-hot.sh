#!/usr/bin/env bash
# Summarizes where a JFR recording's CPU samples (jdk.ExecutionSample: Java threads running Java
# code) went, as Markdown:
#   - the hottest methods by self samples (the top frame of each sample);
#   - self samples by package (two or three levels);
#   - inclusive samples for the stages of the proxy's pipeline (a sample counts for a stage if the
#     stage's code is anywhere on its stack).
# Usage: bench/jfr-hot.sh RECORDING.jfr [TOP]     (needs the JDK's `jfr` tool)
set -euo pipefail

if (($# < 1)) || [[ $1 == -h || $1 == --help ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit $(($# < 1 ? 2 : 0))
fi
recording=$1
top=${2:-30}
[[ -f $recording ]] || { echo "jfr-hot.sh: no such file: $recording" >&2; exit 2; }
command -v jfr >/dev/null || { echo "jfr-hot.sh: the JDK's jfr tool is not on PATH" >&2; exit 2; }

jfr print --events jdk.ExecutionSample --stack-depth 64 "$recording" |
  awk -v top="$top" '
    function package(frame,   name, parts, n, depth, i, out) {
      name = frame
      sub(/\(.*/, "", name)          # drop the argument list
      n = split(name, parts, ".")
      # Keep the package (drop Class.method); three levels for akka/revproxy, two for the rest.
      depth = (parts[1] == "akka" || parts[1] == "revproxy") ? 3 : 2
      if (depth > n - 2) depth = n - 2
      if (depth < 1) depth = 1
      out = parts[1]
      for (i = 2; i <= depth; i++) out = out "." parts[i]
      return out
    }
    /stackTrace = \[/ { inStack = 1; first = 1; stack = ""; next }
    inStack && /^[[:space:]]*\]/ {
      inStack = 0
      total++
      for (s = 1; s <= nStages; s++) if (index(stack, stagePattern[s]) > 0) stageHits[s]++
      next
    }
    inStack {
      frame = $0
      sub(/^[[:space:]]+/, "", frame)
      sub(/[[:space:]]+line:.*/, "", frame)
      if (frame == "...") next
      if (first) { self[frame]++; selfPackage[package(frame)]++; first = 0 }
      stack = stack "|" frame
      next
    }
    BEGIN {
      nStages = 0
      stage[++nStages] = "framing (PacketFraming)";           stagePattern[nStages] = "revproxy.protocol.PacketFraming"
      stage[++nStages] = "JSON decode/encode (PacketCodec)";  stagePattern[nStages] = "revproxy.protocol.PacketCodec"
      stage[++nStages] = "SHA-1 (PayloadHash)";               stagePattern[nStages] = "revproxy.protocol.PayloadHash"
      stage[++nStages] = "RouterActor";                       stagePattern[nStages] = "revproxy.proxy.RouterActor"
      stage[++nStages] = "HashWorker";                        stagePattern[nStages] = "revproxy.worker.HashWorker"
      stage[++nStages] = "legacy backends (revproxy.legacy)"; stagePattern[nStages] = "revproxy.legacy."
      stage[++nStages] = "ask (PromiseActorRef)";             stagePattern[nStages] = "akka.pattern.PromiseActorRef"
      stage[++nStages] = "Akka Streams interpreter";          stagePattern[nStages] = "akka.stream.impl.fusing.GraphInterpreter"
      stage[++nStages] = "Akka TCP I/O (akka.io)";            stagePattern[nStages] = "akka.io."
      stage[++nStages] = "NIO socket calls (sun.nio.ch)";     stagePattern[nStages] = "sun.nio.ch."
      stage[++nStages] = "Artery remoting";                   stagePattern[nStages] = "akka.remote.artery"
      stage[++nStages] = "serialization (Jackson CBOR)";      stagePattern[nStages] = "akka.serialization.jackson"
      stage[++nStages] = "dispatcher: mailbox run loop";      stagePattern[nStages] = "akka.dispatch.Mailbox.run"
      stage[++nStages] = "ForkJoinPool scanning/parking";     stagePattern[nStages] = "java.util.concurrent.ForkJoinPool.scan"
    }
    END {
      if (total == 0) { print "No execution samples in the recording."; exit }
      printf "%d execution samples (Java threads running Java code; time in the kernel and in GC is not sampled here).\n\n", total
      print "Hottest methods, self samples:\n"
      print "| samples | % | method |"
      print "|---:|---:|---|"
      n = 0
      for (f in self) { n++; names[n] = f; counts[n] = self[f] }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (counts[j] > counts[i]) {
        t = counts[i]; counts[i] = counts[j]; counts[j] = t; t = names[i]; names[i] = names[j]; names[j] = t
      }
      for (i = 1; i <= n && i <= top; i++) {
        m = names[i]; gsub(/\|/, "\\|", m)
        printf "| %d | %.1f | `%s` |\n", counts[i], 100 * counts[i] / total, m
      }
      print "\nSelf samples by package:\n"
      print "| samples | % | package |"
      print "|---:|---:|---|"
      n = 0
      for (p in selfPackage) { n++; pn[n] = p; pc[n] = selfPackage[p] }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (pc[j] > pc[i]) {
        t = pc[i]; pc[i] = pc[j]; pc[j] = t; t = pn[i]; pn[i] = pn[j]; pn[j] = t
      }
      for (i = 1; i <= n && i <= 20; i++) printf "| %d | %.1f | `%s` |\n", pc[i], 100 * pc[i] / total, pn[i]
      print "\nInclusive samples by stage (a sample counts for every stage on its stack, so the column does not add up to 100%):\n"
      print "| samples | % | stage |"
      print "|---:|---:|---|"
      for (s = 1; s <= nStages; s++) printf "| %d | %.1f | %s |\n", stageHits[s], 100 * stageHits[s] / total, stage[s]
    }'
