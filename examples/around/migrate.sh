# A stand-in for a real migration: it says what it would do; SCHEMA_BROKEN makes it fail.
direction=${1:-up}
echo "migrating $GANTRY_SERVICE in $GANTRY_ENVIRONMENT $direction: $GANTRY_PREVIOUS_VERSION -> $GANTRY_VERSION"
if [ -n "$SCHEMA_BROKEN" ]; then
  echo "ERROR: column orders.total already exists" >&2
  exit 3
fi
echo "schema at $GANTRY_VERSION"
