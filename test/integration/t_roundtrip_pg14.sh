#!/usr/bin/env bash
# Import round trip, PostgreSQL 14 (see roundtrip.sh).
exec bash "$(dirname "$0")/roundtrip.sh" 14 0
