# Sourced by the other scripts: installs the Debian 12 packages spamguard
# needs to build and test, when any is missing.
SG_PACKAGES=(build-essential cmake pkg-config libre2-dev libsqlite3-dev libhiredis-dev redis-server libboost-test-dev libcli11-dev nlohmann-json3-dev libexpat1-dev
  php-dev php-cli libperl-dev lighttpd curl python3 libpsl-dev libidn2-dev libunistring-dev locales
  wordpress wordpress-theme-twentytwentyone mariadb-server php-mysql sqlite3
  nftables ipset iptables apache2-bin)

sg_install_deps() {
  local missing=()
  for p in "${SG_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    return 1
  fi
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The locale tests need a locale that writes numbers with a decimal comma.
sg_install_test_locale() {
  locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$' && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "the locale tests will skip: no de_DE.UTF-8 locale (as root: localedef -i de_DE -f UTF-8 de_DE.UTF-8)" >&2
    return 0
  fi
  localedef -i de_DE -f UTF-8 de_DE.UTF-8
}

sg_build() {  # sg_build BUILD_DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}
