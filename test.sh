#!/usr/bin/env bash
# Gantry's test command. Installs what the tests need, builds with warnings as errors, runs every
# test, and checks that the gantry .NET tool packs and installs.
set -euo pipefail
cd "$(dirname "$0")"

# 1. Debian packages the tests start for real (nginx, PostgreSQL, Prometheus, Chromium, ...).
#    Under ./test.sh a missing binary fails its test; plain `dotnet test` skips it with the reason.
packages=(gcc zlib1g-dev prometheus prometheus-alertmanager postgresql-15 python3-pytest python3-coverage gcovr lcov g++ libgtest-dev docker.io docker-registry chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
export GANTRY_REQUIRE_BINARIES=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# 2. Build everything; any warning fails the build.
dotnet build Gantry.slnx -c Debug -warnaserror -nologo -clp:NoSummary

# 3. Run every test; a test that hangs for 5 minutes fails the run with a dump.
results=artifacts/test-results
rm -rf "$results"
status=0
dotnet test Gantry.slnx -c Debug --no-build --nologo --blame-hang-timeout 5m \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=$?

# 4. The executable packs as a .NET tool and installs from the package alone.
if [ "$status" -eq 0 ]; then
  rm -rf artifacts/package artifacts/tool
  dotnet pack src/Gantry/Gantry.csproj -c Debug --no-build -o artifacts/package -nologo >/dev/null
  cat > artifacts/package/nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="local" value="$PWD/artifacts/package" /></packageSources></configuration>
XML
  dotnet tool install gantry --tool-path artifacts/tool --configfile artifacts/package/nuget.config --version "$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)" >/dev/null
  if [ "$(artifacts/tool/gantry --version)" != "$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)" ]; then
    echo "test.sh: the installed gantry tool does not report the project version" >&2
    status=1
  else
    echo "test.sh: gantry packs and installs as a .NET tool ($(artifacts/tool/gantry --version))"
  fi
fi

# 4b. Packed for a runtime (-r linux-x64), the tool is the native client in front of the full program: it answers
#     --version itself and hands every other command to gantry-full, which says what the portable tool says.
if [ "$status" -eq 0 ]; then
  version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)"
  rm -rf artifacts/package-native artifacts/tool-native
  dotnet pack src/Gantry/Gantry.csproj -c Debug -r linux-x64 -o artifacts/package-native -nologo >/dev/null
  sed "s:artifacts/package\":artifacts/package-native\":" artifacts/package/nuget.config > artifacts/package-native/nuget.config
  dotnet tool install gantry --tool-path artifacts/tool-native --configfile artifacts/package-native/nuget.config --version "$version" >/dev/null
  native=$(readlink -f artifacts/tool-native/gantry)
  if [ "$(head -c 4 "$native" | od -An -c | tr -d ' ')" != "177ELF" ] || [ ! -x "$(dirname "$native")/gantry-full" ]; then
    echo "test.sh: the runtime-specific gantry tool is not a native client beside gantry-full" >&2
    status=1
  elif [ "$(artifacts/tool-native/gantry --version)" != "$version" ] \
    || [ "$(artifacts/tool-native/gantry --help)" != "$(artifacts/tool/gantry --help)" ]; then
    echo "test.sh: the native gantry tool does not answer as the portable one" >&2
    status=1
  else
    echo "test.sh: gantry -r linux-x64 packs and installs as a native client in front of the full program"
  fi
fi

# 5. One closing line, summed over every test assembly.
awk -F'"' '/<Counters /{for(i=1;i<NF;i++){if($i~/ passed=$/)p+=$(i+1); if($i~/ failed=$/)f+=$(i+1); if($i~/ notExecuted=$/)s+=$(i+1)}} END{printf "%d passed, %d failed, %d skipped\n", p, f, s}' "$results"/*.trx
exit "$status"
