# Sourced by ./build, ./bench and ./pagepool: exports JAVA_HOME for a JDK 25 or newer,
# whatever the default java is, or exits with a message saying what is missing.

# The JDK's release file says its version without starting a JVM (which costs ~0.1 s, too much
# for './pagepool ctl'); a JDK without one is asked.
java_major() {
    local v=""
    [ -f "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
    [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    echo "$v"
}

pick_jdk() {
    local candidate v
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
        v=$(java_major "$candidate")
        if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! JAVA_HOME=$(pick_jdk); then
    echo "pagepool needs a JDK 25 or newer: none found in \$JAVA_HOME or /usr/lib/jvm." >&2
    echo "Install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
    exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Maven's own guava touches sun.misc.Unsafe; JDK 25 warns about it unless allowed.
case "${MAVEN_OPTS:-}" in
    *sun-misc-unsafe-memory-access*) ;;
    *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
esac
