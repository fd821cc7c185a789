#!/usr/bin/env bash
# Build the guest of nova-mq's functional tests: Debian's cloud kernel and a
# tiny initramfs (busybox, virtio_net and its dependencies, ethtool, iperf3,
# and tools/guest/init).  Nothing is installed: the packages are fetched
# with `apt-get download` and unpacked into a cache directory.
#
#   tools/guest/build-initramfs.sh
#
# Environment:
#   NOVA_MQ_GUEST_DIR     the cache (default /var/tmp/nova-mq-guest).  QEMU
#                         runs as libvirt-qemu and reads the kernel and the
#                         initramfs from here, so it and every directory
#                         above it must be world-searchable.
#   NOVA_MQ_GUEST_KERNEL  the kernel package (default linux-image-cloud-amd64,
#                         resolved to the versioned package it depends on).
#
# Idempotent and cached: a second run with the same package versions and
# the same script and init only checks and prints the result.  The result
# is described in $NOVA_MQ_GUEST_DIR/guest.env (shell syntax), which the
# tests read:
#   NMQ_GUEST_KERNEL, NMQ_GUEST_INITRD, NMQ_GUEST_KVER, NMQ_GUEST_PACKAGES,
#   NMQ_GUEST_MODULES, NMQ_GUEST_KEY
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${NOVA_MQ_GUEST_DIR:-/var/tmp/nova-mq-guest}
KERNEL_META=${NOVA_MQ_GUEST_KERNEL:-linux-image-cloud-amd64}
# Userland of the guest; their shared libraries are resolved from apt.
TOOL_PKGS=(busybox-static ethtool iperf3)
# virtio_pci is the transport, virtio_net the driver; their dependencies
# come from modules.dep.
ROOT_MODULES=(virtio_pci virtio_net)
INIT=$HERE/init

log() { echo "build-initramfs: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

for tool in apt-cache apt-get dpkg dpkg-deb gzip flock sha256sum find sort \
    stat; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
[ -r "$INIT" ] || die "$INIT is missing"
ARCH=$(dpkg --print-architecture)
[ "$ARCH" = amd64 ] || die "only amd64 hosts are supported (this is $ARCH)"

mkdir -p "$DIR"
chmod 0755 "$DIR"
DIR=$(cd "$DIR" && pwd -P)
# QEMU (user libvirt-qemu) must reach the kernel and the initramfs.
d=$DIR
while [ "$d" != / ]; do
    mode=$(stat -Lc %a "$d")
    if (((8#$mode & 1) == 0)); then
        die "$d (mode $mode) is not searchable by others: QEMU, running" \
            "as libvirt-qemu, could not read the guest kernel; set" \
            "NOVA_MQ_GUEST_DIR to a world-readable place"
    fi
    d=$(dirname "$d")
done

exec 9>"$DIR/.lock"
flock -w 900 9 || die "another build holds $DIR/.lock"

APT_OPTS=()
[ "$(id -u)" -ne 0 ] || APT_OPTS=(-o APT::Sandbox::User=root)

apt_knows() {
    local out
    out=$(apt-cache show --no-all-versions "$1" 2>/dev/null) || return 1
    [[ $out == *$'\n'Version:* ]]
}

use_cache() {
    # apt cannot answer (no lists, offline): a complete cache still serves.
    if [ -r "$DIR/guest.env" ]; then
        log "warning: $*; using the cached guest"
        cat "$DIR/guest.env"
        exit 0
    fi
    die "$*"
}

# The fast path: apt's lists and this script unchanged since the last
# build (apt-cache is slow where its binary cache is disabled).
INPUTS=$( (
    echo "$KERNEL_META"
    cat "$HERE/build-initramfs.sh" "$INIT"
    stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* /etc/apt/preferences \
        /etc/apt/preferences.d/* 2>/dev/null || true
) | sha256sum | cut -c1-16)
cached() {
    [ -r "$DIR/guest.env" ] && [ -r "$DIR/vmlinuz" ] &&
        [ -r "$DIR/initrd.img" ] && grep -qx "$1" "$DIR/guest.env"
}
if cached "NMQ_GUEST_INPUTS=$INPUTS"; then
    log "cached: $DIR"
    cat "$DIR/guest.env"
    exit 0
fi

if ! apt_knows "$KERNEL_META"; then
    if [ "$(id -u)" -eq 0 ] && [ ! -r "$DIR/guest.env" ]; then
        log "apt does not know $KERNEL_META; apt-get update"
        apt-get update -q >&2 || true
    fi
    apt_knows "$KERNEL_META" ||
        use_cache "apt does not know $KERNEL_META (run apt-get update)"
fi

# The versioned kernel package behind the meta package (or the package
# itself when it is already versioned).
KERNEL_PKG=$(apt-cache depends "$KERNEL_META" |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$KERNEL_PKG" ] || KERNEL_PKG=$KERNEL_META
KVER=${KERNEL_PKG#linux-image-}

# The tools and, recursively, the library packages they depend on (the
# first of alternatives; non-library dependencies such as debconf are not
# needed in the guest).  One apt-cache call per level.
declare -A SEEN=()
PKGS=("$KERNEL_PKG")
SEEN[$KERNEL_PKG]=1
level=()
for pkg in "${TOOL_PKGS[@]}"; do
    SEEN[$pkg]=1
    PKGS+=("$pkg")
    level+=("$pkg")
done
while [ ${#level[@]} -gt 0 ]; do
    next=()
    for dep in $(apt-cache depends --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "${level[@]}" |
        awk '
            /^[^ ]/ { alt = 0; next }
            $1 ~ /^\|?(Pre)?Depends:$/ {
                if (!alt && $2 ~ /^lib/ && $2 !~ /^</) print $2
                alt = ($1 ~ /^\|/) ? 1 : 0
            }'); do
        dep=${dep%:any}
        [ -z "${SEEN[$dep]:-}" ] || continue
        SEEN[$dep]=1
        PKGS+=("$dep")
        next+=("$dep")
    done
    level=("${next[@]}")
done

# pkg=version and the .deb file name apt-get download writes, per package.
declare -A VERSION=() DEBFILE=()
while read -r pkg version arch; do
    VERSION[$pkg]=$version
    DEBFILE[$pkg]=${pkg}_${version//:/%3a}_${arch}.deb
done < <(apt-cache show --no-all-versions "${PKGS[@]}" 2>/dev/null | awk '
    /^Package:/ { p = $2 } /^Version:/ { v = $2 }
    /^Architecture:/ { a = $2 }
    /^$/ { if (p != "") print p, v, a; p = "" }
    END { if (p != "") print p, v, a }')
PKG_LIST=()
for pkg in "${PKGS[@]}"; do
    [ -n "${VERSION[$pkg]:-}" ] || use_cache "apt does not know $pkg"
    PKG_LIST+=("$pkg=${VERSION[$pkg]}")
done
mapfile -t PKG_LIST < <(printf '%s\n' "${PKG_LIST[@]}" | sort)

KEY=$( (
    printf '%s\n' "${PKG_LIST[@]}" "${ROOT_MODULES[@]}"
    cat "$HERE/build-initramfs.sh" "$INIT"
) | sha256sum | cut -c1-16)

if cached "NMQ_GUEST_KEY=$KEY"; then
    # Same packages: only remember that these inputs give them.
    sed "s/^NMQ_GUEST_INPUTS=.*/NMQ_GUEST_INPUTS=$INPUTS/" \
        "$DIR/guest.env" >"$DIR/guest.env.$$"
    mv -f "$DIR/guest.env.$$" "$DIR/guest.env"
    log "cached: $DIR (key $KEY)"
    cat "$DIR/guest.env"
    exit 0
fi

log "building the guest in $DIR (key $KEY)"
log "packages: ${PKG_LIST[*]}"

# 1. Download what is not cached yet.
mkdir -p "$DIR/debs" "$DIR/pkgs"
missing=()
for pkg in "${PKGS[@]}"; do
    [ -s "$DIR/debs/${DEBFILE[$pkg]}" ] || missing+=("$pkg=${VERSION[$pkg]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get download ${missing[*]}"
    (cd "$DIR/debs" && apt-get "${APT_OPTS[@]}" download -q "${missing[@]}" >&2)
fi
for pkg in "${PKGS[@]}"; do
    [ -s "$DIR/debs/${DEBFILE[$pkg]}" ] ||
        die "apt-get download did not give $DIR/debs/${DEBFILE[$pkg]}"
done

# 2. Unpack each package once, into pkgs/<deb name without .deb>.
unpacked() { echo "$DIR/pkgs/${DEBFILE[$1]%.deb}"; }
for pkg in "${PKGS[@]}"; do
    dest=$(unpacked "$pkg")
    [ -d "$dest" ] && continue
    rm -rf "$dest.tmp"
    dpkg-deb -x "$DIR/debs/${DEBFILE[$pkg]}" "$dest.tmp"
    mv "$dest.tmp" "$dest"
done

KROOT=$(unpacked "$KERNEL_PKG")
BUSYBOX=$(unpacked busybox-static)/bin/busybox
[ -x "$BUSYBOX" ] || die "busybox-static has no bin/busybox"
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || die "$KERNEL_PKG has no boot/vmlinuz-$KVER"
MODBASE=
for base in "$KROOT" "$KROOT/usr"; do
    [ -d "$base/lib/modules/$KVER" ] && MODBASE=$base && break
done
[ -n "$MODBASE" ] || die "$KERNEL_PKG has no lib/modules/$KVER"
MODDIR=$MODBASE/lib/modules/$KVER
if [ ! -s "$MODDIR/modules.dep" ]; then
    # The package does not ship modules.dep (the installer runs depmod).
    "$BUSYBOX" depmod -b "$MODBASE" "$KVER"
fi

# 3. virtio_net, its transport and their dependencies, in load order.
declare -A MOD_SEEN=()
MODULES=()
resolve_module() {
    local rel=$1 dep
    [ -z "${MOD_SEEN[$rel]:-}" ] || return 0
    MOD_SEEN[$rel]=1
    for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print; exit }' \
        "$MODDIR/modules.dep"); do
        resolve_module "$dep"
    done
    MODULES+=("$rel")
}
for name in "${ROOT_MODULES[@]}"; do
    rel=$(awk -F: -v n="$name" '{
            f = $1; sub(/.*\//, "", f); sub(/\.ko(\.(xz|gz|zst))?$/, "", f)
            gsub("-", "_", f)
            if (f == n) { print $1; exit }
        }' "$MODDIR/modules.dep")
    if [ -z "$rel" ]; then
        if grep -Eq "/$name\\.ko" "$MODDIR/modules.builtin" 2>/dev/null; then
            log "$name is built into $KVER"
            continue
        fi
        die "$KERNEL_PKG has no module $name"
    fi
    resolve_module "$rel"
done

# 4. The guest's programs and the libraries they load (all from the
# downloaded packages, never from this host).
LIBPATH=
LDSO=
for pkg in "${PKGS[@]}"; do
    [ "$pkg" = "$KERNEL_PKG" ] && continue
    root=$(unpacked "$pkg")
    for sub in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
        [ -d "$root/$sub" ] && LIBPATH=${LIBPATH:+$LIBPATH:}$root/$sub
    done
    [ -n "$LDSO" ] || LDSO=$(find "$root" -name ld-linux-x86-64.so.2 \
        -type f -print -quit)
done
[ -n "$LDSO" ] || die "no package gave ld-linux-x86-64.so.2 (libc6?)"
find_program() {
    local pkg=$1 name=$2 path
    for path in bin sbin usr/bin usr/sbin; do
        path=$(unpacked "$pkg")/$path/$name
        [ -x "$path" ] && echo "$path" && return 0
    done
    die "package $pkg has no program $name"
}
PROGRAMS=("$(find_program ethtool ethtool)" "$(find_program iperf3 iperf3)")

STAGE=$DIR/stage.$$
trap 'rm -rf "$STAGE" "$DIR/initrd.img.$$" "$DIR/vmlinuz.$$" \
    "$DIR/guest.env.$$"' EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run} \
    "$STAGE/lib/x86_64-linux-gnu" "$STAGE/lib64" "$STAGE/lib/modules/$KVER"
cp "$BUSYBOX" "$STAGE/bin/busybox"
install -m 0755 "$INIT" "$STAGE/init"
cp "$LDSO" "$STAGE/lib64/ld-linux-x86-64.so.2"
for prog in "${PROGRAMS[@]}"; do
    cp "$prog" "$STAGE/bin/"
    while read -r soname path; do
        case "$path" in
            "$DIR"/pkgs/*) cp -L "$path" "$STAGE/lib/x86_64-linux-gnu/$soname" ;;
            *) die "${prog##*/} needs $soname, found only at '$path' (not in" \
                "a downloaded package)" ;;
        esac
    done < <("$LDSO" --library-path "$LIBPATH" --list "$prog" |
        awk '$2 == "=>" && $1 !~ /\// { print $1, $3 }')
done
: >"$STAGE/etc/nmq-modules"
for rel in "${MODULES[@]}"; do
    out=$STAGE/lib/modules/$KVER/${rel%.ko*}.ko
    mkdir -p "$(dirname "$out")"
    case "$rel" in
        *.ko) cp "$MODDIR/$rel" "$out" ;;
        *.ko.xz) "$BUSYBOX" xzcat "$MODDIR/$rel" >"$out" ;;
        *.ko.gz) "$BUSYBOX" zcat "$MODDIR/$rel" >"$out" ;;
        *.ko.zst)
            command -v zstd >/dev/null || die "$rel needs zstd to unpack"
            zstd -qdc "$MODDIR/$rel" >"$out"
            ;;
        *) die "unknown module file $rel" ;;
    esac
    echo "${rel%.ko*}.ko" >>"$STAGE/etc/nmq-modules"
done

# 5. The initramfs (newc cpio, gzip) and the kernel, replaced atomically.
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
    "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -9n >"$DIR/initrd.img.$$"
cp "$VMLINUZ" "$DIR/vmlinuz.$$"
chmod 0644 "$DIR/initrd.img.$$" "$DIR/vmlinuz.$$"
mv -f "$DIR/vmlinuz.$$" "$DIR/vmlinuz"
mv -f "$DIR/initrd.img.$$" "$DIR/initrd.img"
mod_names=()
for rel in "${MODULES[@]}"; do
    m=${rel##*/}
    mod_names+=("${m%.ko*}")
done
cat >"$DIR/guest.env.$$" <<EOF
NMQ_GUEST_KEY=$KEY
NMQ_GUEST_INPUTS=$INPUTS
NMQ_GUEST_KERNEL=$DIR/vmlinuz
NMQ_GUEST_INITRD=$DIR/initrd.img
NMQ_GUEST_KVER=$KVER
NMQ_GUEST_PACKAGES="${PKG_LIST[*]}"
NMQ_GUEST_MODULES="${mod_names[*]}"
EOF
chmod 0644 "$DIR/guest.env.$$"
mv -f "$DIR/guest.env.$$" "$DIR/guest.env"

# Drop downloads and unpacked trees of other versions.
declare -A KEEP=()
for pkg in "${PKGS[@]}"; do
    KEEP[${DEBFILE[$pkg]}]=1
    KEEP[${DEBFILE[$pkg]%.deb}]=1
done
for path in "$DIR"/debs/* "$DIR"/pkgs/*; do
    [ -e "$path" ] || continue
    [ -n "${KEEP[${path##*/}]:-}" ] || rm -rf "$path"
done

log "built: kernel $KVER, initramfs $(stat -c %s "$DIR/initrd.img") bytes," \
    "modules: ${mod_names[*]}"
cat "$DIR/guest.env"
