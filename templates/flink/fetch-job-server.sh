#!/usr/bin/env bash
# Fetches Beam's Flink job server with Maven and writes the jar that --flink_job_server_jar takes.
#
#   templates/flink/fetch-job-server.sh OUT_DIR [FLINK_VERSION [BEAM_FLINK_VERSION]]
#
# OUT_DIR/lib/ gets the runner and its dependencies (mvn dependency:copy-dependencies of pom.xml
# beside this script, through the local repository ~/.m2: an internal mirror in settings.xml, or
# MAVEN_ARGS=-o once ~/.m2 is filled, work as usual), and OUT_DIR/job-server.jar is a launcher
# whose manifest runs org.apache.beam.runners.flink.FlinkJobServerDriver on lib/*.jar, so that
# `java -jar OUT_DIR/job-server.jar --flink-master=...` is what FlinkRunner starts.
set -euo pipefail
out=${1:?usage: fetch-job-server.sh OUT_DIR [FLINK_VERSION [BEAM_FLINK_VERSION]]}
flink=${2:-1.19}
beam=${3:-2.62.0}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/lib.tmp"
# shellcheck disable=SC2086 # MAVEN_ARGS is a list of flags
mvn -B -q ${MAVEN_ARGS:-} -f "$here/pom.xml" dependency:copy-dependencies \
  -Dflink.version="$flink" -Dbeam.flink.version="$beam" \
  -DincludeScope=runtime -DoutputDirectory="$out/lib.tmp"
rm -rf "$out/lib" && mv "$out/lib.tmp" "$out/lib"
# Manifest lines are at most 72 bytes; longer values continue on lines starting with a space.
python3 - "$out" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
jars = " ".join("lib/" + n for n in sorted(os.listdir(os.path.join(out, "lib"))) if n.endswith(".jar"))
def wrap(line):
    b = line.encode()
    parts, b = [b[:71]], b[71:]
    while b:
        parts.append(b" " + b[:70]); b = b[70:]
    return b"\r\n".join(parts) + b"\r\n"
manifest = b"".join(wrap(x) for x in (
    "Manifest-Version: 1.0",
    "Main-Class: org.apache.beam.runners.flink.FlinkJobServerDriver",
    "Class-Path: " + jars,
)) + b"\r\n"
# Warnings, plus the lines an operator looks for: job state changes and completed checkpoints.
logging = "\n".join((
    "org.slf4j.simpleLogger.defaultLogLevel=warn",
    "org.slf4j.simpleLogger.showDateTime=true",
    "org.slf4j.simpleLogger.log.org.apache.flink.runtime.checkpoint.CheckpointCoordinator=info",
    "org.slf4j.simpleLogger.log.org.apache.flink.runtime.executiongraph.ExecutionGraph=info",
    "org.slf4j.simpleLogger.log.org.apache.beam.runners.flink.FlinkJobInvoker=info",
    "",
))
tmp = os.path.join(out, "job-server.jar.tmp")
with zipfile.ZipFile(tmp, "w") as z:
    z.writestr("META-INF/MANIFEST.MF", manifest)
    z.writestr("simplelogger.properties", logging)
os.replace(tmp, os.path.join(out, "job-server.jar"))
PY
echo "$out/job-server.jar"
