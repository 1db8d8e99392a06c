# Sourced by ./build and .ci/run: the page test (runtime PageIT) drives Debian's Chromium headless.
# Installs it when missing and this user may (root, or sudo without a password); when it cannot,
# says so and the page test is skipped with the same words.
if ! command -v chromium > /dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] || sudo -n true 2> /dev/null; then
        as_root=""
        [ "$(id -u)" = 0 ] || as_root="sudo -n"
        echo "pagepool: installing Debian's chromium for the page test (apt-get)..." >&2
        if ! { $as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium; } \
            > /tmp/pagepool-chromium-install.log 2>&1; then
            echo "pagepool: could not install chromium (see /tmp/pagepool-chromium-install.log); the page test will be skipped" >&2
        fi
    else
        echo "pagepool: no chromium and no root to install it; the page test will be skipped" >&2
    fi
fi
