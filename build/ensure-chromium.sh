#!/bin/sh
# Installs Debian's Chromium for the browser tests when it is missing and we
# may (root with apt). Otherwise says how; the tests then skip, unless
# NSFW_REQUIRE_BROWSER=1 (as CI sets), which makes them fail instead.
if [ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || [ -n "$NSFW_CHROMIUM" ]; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing Debian's chromium for the browser tests..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null
	exit $?
fi
echo "note: Chromium is not installed; the browser tests will be skipped (install it with: sudo apt-get install chromium, or set NSFW_CHROMIUM)" >&2
exit 0
