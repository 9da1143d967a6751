#!/bin/sh
# Rebuilds schema.sql from a git clone of github.com/element-hq/synapse:
#
#   testdata/presets/synapse/vendor.sh /path/to/synapse.git [commit] > testdata/presets/synapse/schema.sql
#
# It copies, verbatim, the CREATE TABLE statement, the table constraints and the
# indexes of each table the preset reads from the newest full schema dump, then
# the ALTER TABLE statements of the later deltas that change those tables, each
# under a comment naming its upstream file (README.md lists them). Nothing else
# of Synapse is copied.
set -eu
git_dir=$1
rev=${2:-HEAD}
commit=$(git --git-dir="$git_dir" rev-parse "$rev")
show() { git --git-dir="$git_dir" show "$commit:$1"; }

tables='local_current_membership|users|profiles|rooms|events|event_json|state_events|current_state_events|room_memberships|event_relations|redactions|room_stats_state|account_data'
common=synapse/storage/schema/common/full_schemas/72/full.sql.postgres
main=synapse/storage/schema/main/full_schemas/72/full.sql.postgres

echo "-- Synapse's own schema for the tables mappings/presets/synapse.yaml reads, vendored"
echo "-- verbatim by vendor.sh from github.com/element-hq/synapse at commit $commit"
echo "-- (Synapse is AGPL-3.0; these are its table definitions, used as test fixtures)."
echo "-- SCHEMA_VERSION $(show synapse/storage/schema/__init__.py | sed -n 's/^SCHEMA_VERSION = \([0-9]*\).*/\1/p'): the full dump of version 72, then the deltas since that change these tables."
echo
echo "-- $common"
show "$common"
echo
echo "-- $main (the tables above only)"
show "$main" | awk -v t="^CREATE TABLE ($tables) \\\\(\$" '$0 ~ t {p=1} p {print} p && /^\);$/ {p=0}'
show "$main" | awk -v t="^ALTER TABLE ONLY ($tables)\$" '$0 ~ t {print; getline; print}'
show "$main" | grep -E "^CREATE (UNIQUE )?INDEX [a-z_0-9]+ ON ($tables) USING"

for f in \
	73/03users_approved_column.sql \
	74/03_membership_tables_event_stream_ordering.sql.postgres \
	76/01_add_profiles_full_user_id_column.sql \
	77/01_add_profiles_not_valid_check.sql.postgres \
	80/01_users_alter_locked.sql \
	85/01_add_suspended.sql \
	88/01_custom_profile_fields.sql \
	90/01_add_column_participant_room_memberships_table.sql \
	94/01_redactions_recheck.sql; do
	echo
	echo "-- synapse/storage/schema/main/delta/$f"
	show "synapse/storage/schema/main/delta/$f" | grep -E '^(ALTER TABLE|INSERT INTO background_updates)'
	case $f in
	77/01_*)
		# 78/01_validate_and_update_profiles.py is Python; on PostgreSQL, after
		# filling full_user_id where the background update missed it (nothing,
		# in an empty database), it runs this statement.
		echo
		echo "-- synapse/storage/schema/main/delta/78/01_validate_and_update_profiles.py (its PostgreSQL statement)"
		echo "ALTER TABLE profiles VALIDATE CONSTRAINT full_user_id_not_null;"
		;;
	esac
done
