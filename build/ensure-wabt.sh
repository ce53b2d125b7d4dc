#!/bin/sh
# Installs Debian's wabt (wat2wasm) when it is missing and we may (root with
# apt): TestKernelModuleMatchesSource rebuilds wasm/kernels/kernels.wasm from
# its WAT source with it. Otherwise says how; that test is then skipped, and
# make test's summary says so.
if command -v wat2wasm >/dev/null; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing Debian's wabt (wat2wasm) for the kernel module test..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends wabt >/dev/null
	exit $?
fi
echo "note: wat2wasm is not installed; the test that kernels.wasm matches kernels.wat will be skipped (install it with: sudo apt-get install wabt)" >&2
exit 0
