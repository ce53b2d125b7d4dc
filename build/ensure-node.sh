#!/bin/sh
# Installs Debian's Node.js and npm when they are missing and we may (root
# with apt): make test runs the wasm builds in Node, and the converter test
# fetches nsfwjs with npm. Otherwise says how, and fails: without Node the
# wasm tests cannot run at all.
if command -v node >/dev/null && command -v npm >/dev/null; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing Debian's nodejs and npm for the wasm tests..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
	exit $?
fi
if ! command -v node >/dev/null; then
	echo "make test needs Node.js (20 or later) to run the wasm tests: install it, e.g. sudo apt-get install nodejs npm" >&2
	exit 1
fi
echo "note: npm is not installed; the test that conversion reproduces the committed models will be skipped unless NSFWJS_TGZ names the nsfwjs tarball" >&2
exit 0
