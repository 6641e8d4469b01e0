#!/usr/bin/env bash
# Builds the hms release VERSION from the commit checked out. Reproducible:
# two runs on the same commit, with the same Go, give the same bytes.
#
#   scripts/release.sh 0.3.0                     # all platforms, into dist/
#   scripts/release.sh --out /tmp/rel 0.3.0
#   scripts/release.sh --platforms linux/amd64 --allow-dirty 0.0.0-test
#
# For each platform (default: linux/amd64 linux/arm64 darwin/arm64
# windows/amd64): static binaries (CGO_ENABLED=0, -trimpath, VERSION stamped
# into pkg/version) in hms-VERSION-OS-ARCH.tar.gz (.zip for Windows) with
# bin/, share/ (man pages, bash, zsh and fish completions: tools/hms-gendocs)
# and README.md; for Linux also the .deb of packaging/nfpm.yaml. Then
# SHA256SUMS over all of them. The artefacts' paths go to stdout.
#
# How it is reproducible: SOURCE_DATE_EPOCH is the commit's time (archive
# entries, the .deb, the man pages' date); archives are written by
# tools/hms-pack (sorted, owned by root, fixed modes); the binaries are
# built from a fresh clone of the commit, so that they record its hash
# (--version) and nothing else of the working tree. A tree with changes is
# refused; --allow-dirty builds it as it is (a test build: --version says
# +dirty; in a linked git worktree Go can record no commit at all).
# Needs Go and git, nothing from Debian: nfpm is a Go module (tools/nfpm.mod).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
here=$PWD
root=$(hms_root)
ensure_go

usage() { # usage STATUS
	sed -n '2,/^set /s/^# \{0,1\}//p' "$0" >&2
	exit "$1"
}
out=$root/dist
platforms="linux/amd64 linux/arm64 darwin/arm64 windows/amd64"
allow_dirty=0
version=
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || usage 2; out=$2; shift ;;
	--out=*) out=${1#--out=} ;;
	--platforms) [ $# -ge 2 ] || usage 2; platforms=${2//,/ }; shift ;;
	--platforms=*) platforms=${1#--platforms=}; platforms=${platforms//,/ } ;;
	--allow-dirty) allow_dirty=1 ;;
	-h | --help) usage 0 ;;
	-*) echo "release.sh: error: unknown flag $1" >&2; usage 2 ;;
	*) [ -z "$version" ] || die "one VERSION only (got $version and $1)"; version=$1 ;;
	esac
	shift
done
[ -n "$version" ] || usage 2
version=${version#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] ||
	die "VERSION $version is not MAJOR.MINOR.PATCH[-PRERELEASE] (e.g. 0.3.0, 0.4.0-rc.1)"
for p in $platforms; do
	case $p in
	linux/amd64 | linux/arm64 | darwin/arm64 | darwin/amd64 | windows/amd64 | windows/arm64) ;;
	*) die "unsupported platform $p (linux/amd64, linux/arm64, darwin/arm64, windows/amd64, ...)" ;;
	esac
done
case $out in /*) ;; *) out=$here/$out ;; esac
mkdir -p "$out"

cd "$root"
commit=$(git rev-parse --verify HEAD) || die "$root is not a git checkout with a commit"
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH CGO_ENABLED=0
work=$(mktemp -d "${TMPDIR:-/tmp}/hms-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

src=$work/src
vcs=true
if [ -z "$(git status --porcelain)" ]; then
	git clone --quiet --shared --no-checkout "$root" "$src"
	git -C "$src" checkout --quiet --detach "$commit"
elif [ "$allow_dirty" = 1 ]; then
	echo "release.sh: building the working tree with its changes (--allow-dirty)" >&2
	src=$root
	if [ "$(git rev-parse --path-format=absolute --git-dir)" != "$(git rev-parse --path-format=absolute --git-common-dir)" ]; then
		# Go takes a linked worktree's .git file for no repository
		# (golang/go#58218) and may stamp an enclosing checkout's commit.
		vcs=false
	fi
else
	die "the working tree has changes (git status): commit them, or use --allow-dirty for a test build"
fi
cd "$src"

# The machine's GOFLAGS may say -buildvcs=false: a release records its commit.
build_flags=(-trimpath -buildvcs=$vcs -ldflags "-s -w -X github.com/hms-toolkit/hms/pkg/version.release=$version")
go build -buildvcs=false -o "$work/hms-pack" ./tools/hms-pack
echo "== man pages and completions" >&2
go run -buildvcs=false ./tools/hms-gendocs -o "$work/share" -version "$version"

# What the .deb needs besides: compressed man pages, and the units and the
# crontab written for a /usr/local install pointed at the package's /usr.
deb=$work/deb
mkdir -p "$deb/man/man1" "$deb/man/man7" "$deb/systemd"
for page in "$work"/share/man/man*/*; do
	gzip -9 -n -c "$page" >"$deb/man/$(basename "$(dirname "$page")")/$(basename "$page").gz"
done
to_usr() { sed -e 's#/usr/local/bin/#/usr/bin/#g' -e 's#/usr/local/lib/hms/#/usr/lib/hms/#g' \
	-e 's#/usr/local/share/doc/hms/#/usr/share/doc/hms/#g' "$@"; }
for unit in scripts/systemd/*.service; do
	to_usr "$unit" >"$deb/systemd/$(basename "$unit")"
done
to_usr scripts/cron/crontab.example >"$deb/crontab.example"

artefacts=()
for p in $platforms; do
	os=${p%/*} arch=${p#*/}
	name=hms-$version-$os-$arch
	echo "== $p" >&2
	mkdir -p "$work/$name/bin"
	GOOS=$os GOARCH=$arch go build "${build_flags[@]}" -o "$work/$name/bin/" ./cmd/...
	cp README.md "$work/$name/"
	cp -R "$work/share" "$work/$name/share"
	archive=$out/$name.tar.gz
	[ "$os" != windows ] || archive=$out/$name.zip
	"$work/hms-pack" archive -o "$archive" "$work/$name"
	artefacts+=("$archive")
	if [ "$os" = linux ]; then
		mkdir "$work/deb-$arch"
		HMS_VERSION=$version HMS_ARCH=$arch HMS_BIN=$work/$name/bin HMS_SHARE=$work/share HMS_DEB=$deb \
			go tool -modfile=tools/nfpm.mod nfpm package --config packaging/nfpm.yaml --packager deb \
			--target "$work/deb-$arch/" >&2
		for pkg in "$work/deb-$arch"/*.deb; do
			mv "$pkg" "$out/"
			artefacts+=("$out/$(basename "$pkg")")
		done
	fi
done
"$work/hms-pack" sums -o "$out/SHA256SUMS" "${artefacts[@]}"
printf '%s\n' "${artefacts[@]}" "$out/SHA256SUMS"
