#!/usr/bin/env bash
# The whole story against the built-in simulators; `make demo` runs it.
# Needs nothing but the project's virtual environment (BIN) and free ports 8700-8704.
# The simulators keep their state in $DEMO_DIR/simulators.json, for `make console`.
set -euo pipefail

BIN=${BIN:-.venv/bin}
DEMO_DIR=${DEMO_DIR:-var/demo}
CONFIG=demo/ikm-sync.toml

ikm() { "$BIN/ikm-sync" --config "$CONFIG" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"

step "1. The canonical catalogue: producers, products, initial stock, channel accounts"
ikm db upgrade
ikm catalog import demo/producers.csv demo/products.csv --actor officer:demo --show 5
ikm accounts apply
ikm stock adjust KOPI-FLR-001 -2 --actor officer:demo \
  --reason "two jars opened for a tasting at Plasa Pameran Industri"

step "2. The marketplaces: Shopee, Tokopedia, Bukalapak and TikTok Shop simulators (log: $DEMO_DIR/simulate.log)"
"$BIN/ikm-sync" simulate --duration 1800 --state "$DEMO_DIR/simulators.json" >"$DEMO_DIR/simulate.out" 2>"$DEMO_DIR/simulate.log" &
SIMULATORS=$!
trap 'kill "$SIMULATORS" 2>/dev/null || true; wait "$SIMULATORS" 2>/dev/null || true' EXIT
"$BIN/python" - <<'PY'
import sys, time, httpx
for attempt in range(100):
    try:
        for port in (8700, 8701, 8702, 8703, 8704):
            httpx.get(f"http://127.0.0.1:{port}/_sim/requests", timeout=1)
        break
    except httpx.HTTPError:
        time.sleep(0.1)
else:
    sys.exit("the simulators did not start; see var/demo/simulate.log (ports 8700-8704 in use?)")
PY
ikm accounts authorize shopee-ntt-flores --follow
ikm accounts authorize bukalapak-esmart-ikm --follow
ikm accounts check

step "3. Plan: what each shop needs (nothing is sent)"
ikm sync plan

step "4. Publish: listings created in the largest batches each marketplace allows"
ikm sync push

step "5. Simulated buyers order on every marketplace, and pay"
ikm buyers --orders 4

step "6. One cycle: pull the orders, move their stock once, correct the other marketplaces"
ikm sync cycle
ikm orders

step "7. The same cycle again: nothing changed, so nothing moves and nothing is sent"
ikm sync cycle

step "8. Per account: what is listed, what was sold, and which run each figure comes from"
ikm sync report
ikm runs list --limit 12

step "9. The auditor's trail: why SABUT-LBH-001 stands where it does, every movement from zero with its cause"
ikm audit trace SABUT-LBH-001
printf '\nAlso: ikm-sync audit log (--since/--until/--actor/--subject/--kind, --json or --csv) and runs export --since DATE --csv\n'

step "10. The prison workshops' Tokopedia shop is bound to TikTok Shop: its TikTok Shop account takes over"
# The binding brings the shop's products to TikTok Shop (the simulator is told so);
# from now on the TikTok Shop account publishes (binding those products by SKU, none
# listed twice) and takes the new orders, while the Tokopedia account only follows
# the orders placed before the handover: an order seen through both APIs counts once.
"$BIN/python" - <<'PY'
import httpx
listed = httpx.get("http://127.0.0.1:8702/_sim/listings", timeout=5).json()
rows = listed["listings"] if isinstance(listed, dict) else listed
products = [{"seller_sku": x["sku"], "price": x["price"], "quantity": x["stock"]} for x in rows]
httpx.post("http://127.0.0.1:8704/_sim/products", json={"products": products}, timeout=5)
print(f"{len(products)} Tokopedia products now also served through TikTok Shop")
PY
cat "$CONFIG" - >"$DEMO_DIR/bound.toml" <<EOF

[marketplaces.tiktok_shop]
base_url = "http://127.0.0.1:8704"
options = { token_url = "http://127.0.0.1:8704/api/v2/token/get", authorize_url = "http://127.0.0.1:8704/open/authorize", service_id = "7548977048", default_category_id = "600001" }

[[accounts]]
id = "tiktok-karya-lapas"
marketplace = "tiktok_shop"
shop_id = "7494641487937455"
producers = ["WBP-KALBAR-001", "WBP-DKI-001", "WBP-BANTEN-001"]
credentials = "tiktok_demo"
takes_over = "tokopedia-karya-lapas"
handover_at = $(date -u +%Y-%m-%dT%H:%M:%SZ)

[accounts.allocation]
share_percent = 50
cap = 10
EOF
bound() { IKMSYNC_SECRETS_DIR="$PWD/demo/secrets" "$BIN/ikm-sync" --config "$DEMO_DIR/bound.toml" "$@"; }
bound accounts apply
bound accounts authorize tiktok-karya-lapas --follow \
  --redirect-uri https://ikm-sync.example/tiktok_shop/callback
bound sync plan
bound sync cycle
bound sync report

step "11. The console's users (role and scope), all with the demo password"
DEMO_PASSWORD=${DEMO_PASSWORD:-ikm-sync-demo}
user() { printf '%s\n' "$DEMO_PASSWORD" | bound users add "$@" --password-stdin; }
user admin --role admin --name "Admin Dinas" --language en
user auditor --role auditor --name "Auditor Inspektorat"
user officer.ntt --role officer --name "Petugas NTT" --province "Nusa Tenggara Timur"
user officer.lapas --role officer --name "Petugas Lapas" \
  --institution "Lapas Kelas IIA Pontianak" --institution "Lapas Kelas I Cipinang" \
  --institution "Lapas Perempuan Kelas IIA Tangerang"
bound users list
cat <<EOF

The console on this demo's data: make console   (simulators, daemon and console; Ctrl-C stops all)
then open http://127.0.0.1:8000/ and sign in with password "$DEMO_PASSWORD" as
  admin          everything, and the users
  auditor        everything, read-only: audit log, traces and exports
  officer.ntt    the NTT producers (shop shopee-ntt-flores)
  officer.lapas  the three Lapas workshops (tokopedia-karya-lapas, tiktok-karya-lapas)
EOF
