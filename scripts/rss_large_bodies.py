#!/usr/bin/env python3
"""RSS of the release binary before and after 200 signed WhatsApp bodies of 2 MB each.
Build first: cargo build --release --bin redsol; then: python3 scripts/rss_large_bodies.py"""
import hmac, hashlib, json, os, pathlib, subprocess, sys, time, urllib.request, tempfile
SECRET = "rss-test-app-secret"
PORT = 5099
data = tempfile.mkdtemp()
env = dict(os.environ, WHATSAPP_PHONE_NUMBER_ID="1000000001", WHATSAPP_ACCESS_TOKEN="EAAG-rss-test-token",
           WHATSAPP_VERIFY_TOKEN="verify", WHATSAPP_APP_SECRET=SECRET, WHATSAPP_API_URL="http://127.0.0.1:9",
           MESSAGING_PORT=str(PORT), REDSOL_DATA_DIR=data, RUST_LOG="error")
p = subprocess.Popen([str(pathlib.Path(__file__).resolve().parent.parent / "target/release/redsol"), "run", "--mode", "whatsapp"], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def rss():
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ready", timeout=1); break
    except Exception:
        time.sleep(0.1)
before = rss()
text = "hola " * (2_000_000 // 5)
codes = {}
for i in range(200):
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": "1000000001"},
        "messages": [{"from": f"52146400{i:05d}", "id": f"wamid.RSS{i}", "type": "text", "text": {"body": text}}]}}]}]}).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/webhook", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
    try:
        code = urllib.request.urlopen(req, timeout=30).status
    except urllib.error.HTTPError as e:
        code = e.code
    codes[code] = codes.get(code, 0) + 1
after = rss()
time.sleep(5)
settled = rss()
db = os.path.getsize(os.path.join(data, "redsol.db")) + sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("redsol.db-"))
print(f"bodies: 200 x {len(body)/1e6:.1f} MB, answers {codes}; RSS before {before} MB, right after {after} MB, 5 s later {settled} MB; database files {db/1e6:.1f} MB")
p.terminate(); p.wait()
