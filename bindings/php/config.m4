dnl spamguard PHP extension: a thin shim over the spamguard C ABI.
PHP_ARG_WITH([spamguard],
  [for spamguard support],
  [AS_HELP_STRING([--with-spamguard=DIR], [spamguard installation prefix (default: pkg-config)])])

if test "$PHP_SPAMGUARD" != "no"; then
  if test "$PHP_SPAMGUARD" != "yes" && test -r "$PHP_SPAMGUARD/include/spamguard/spamguard.h"; then
    SG_INC="$PHP_SPAMGUARD/include"
    SG_LIBDIR=`dirname "$(ls $PHP_SPAMGUARD/lib*/libspamguard.so $PHP_SPAMGUARD/lib/*/libspamguard.so 2>/dev/null | head -1)"`
  else
    SG_INC=`pkg-config --variable=includedir spamguard`
    SG_LIBDIR=`pkg-config --variable=libdir spamguard`
  fi
  if test -z "$SG_INC" || ! test -r "$SG_INC/spamguard/spamguard.h"; then
    AC_MSG_ERROR([spamguard.h not found; use --with-spamguard=PREFIX or set PKG_CONFIG_PATH])
  fi
  PHP_ADD_INCLUDE($SG_INC)
  PHP_ADD_LIBRARY_WITH_PATH(spamguard, $SG_LIBDIR, SPAMGUARD_SHARED_LIBADD)
  PHP_SUBST(SPAMGUARD_SHARED_LIBADD)
  PHP_NEW_EXTENSION(spamguard, spamguard.c, $ext_shared)
fi
