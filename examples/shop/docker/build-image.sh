#!/usr/bin/env bash
# Builds the image gantry-shop:VERSION from the built sample service, without a registry or a base image:
# a root file system with the .NET runtime, the libraries it loads and the app, given to `docker import`.
#
#   examples/shop/docker/build-image.sh VERSION [CONFIGURATION]     (DOCKER_HOST is respected)
set -euo pipefail
version=${1:?usage: build-image.sh VERSION [debug|release]}
configuration=${2:-debug}
cd "$(dirname "$0")/../../.."
app="artifacts/bin/Shop/$configuration"
[ -f "$app/Shop.dll" ] || dotnet build examples/shop -c "${configuration^}" -nologo -v q >/dev/null
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/app" "$root/tmp" "$root/usr/share/dotnet/shared"
chmod 1777 "$root/tmp"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$root/usr/share/dotnet/"
runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/* | sort -V | tail -1)
aspnet=$(ls -d "$dotnet_root"/shared/Microsoft.AspNetCore.App/* | sort -V | tail -1)
mkdir -p "$root/usr/share/dotnet/shared/Microsoft.NETCore.App" "$root/usr/share/dotnet/shared/Microsoft.AspNetCore.App"
cp -a "$runtime" "$root/usr/share/dotnet/shared/Microsoft.NETCore.App/"
cp -a "$aspnet" "$root/usr/share/dotnet/shared/Microsoft.AspNetCore.App/"
cp -a "$app"/. "$root/app/"

# The libraries the host and the runtime's native parts load, with the loader itself; /lib and /lib64 point
# into /usr as on the build machine (Debian's merged /usr), each library under its real name and its soname.
mkdir -p "$root/usr/lib" "$root/usr/lib64"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
# OpenSSL is loaded by name when first used (hashing, TLS), so ldd does not list it: it is added by hand.
{
  for binary in "$dotnet_root/dotnet" "$runtime"/*.so; do
    ldd "$binary" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }'
  done
  ldconfig -p | awk '/lib(ssl|crypto)\.so\.3 / { print $NF }'
} | sort -u | while read -r lib; do
  real=$(readlink -f "$lib")
  cp --parents "$real" "$root/"
  dir=$(dirname "$root$real")
  [ "$(basename "$lib")" = "$(basename "$real")" ] || ln -sf "$(basename "$real")" "$dir/$(basename "$lib")"
  case "$lib" in /lib64/*) mkdir -p "$root/usr/lib64"; ln -sf "$real" "$root/usr/lib64/$(basename "$lib")";; esac
done

tar -C "$root" -c . | docker import \
  -c 'ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1' \
  -c 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1' \
  -c 'WORKDIR /app' \
  -c 'ENTRYPOINT ["/usr/share/dotnet/dotnet", "/app/Shop.dll"]' \
  -c "LABEL org.opencontainers.image.version=$version" \
  - "gantry-shop:$version" >/dev/null
echo "gantry-shop:$version"
