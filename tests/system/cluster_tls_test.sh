#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# etcd over TLS with client certificates (docs/cluster.md): sgfwctl --etcd-ca/--etcd-cert/
# --etcd-key imports and exports the fleet, is refused without its certificate or without the
# CA, and a node with cluster.ca_file, cert_file and key_file syncs.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/etcd_single.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

sg_etcd_test_begin sgfw-cltls openssl

# A CA, and a certificate for the server (127.0.0.1) and one for the clients, a day each.
cd "$tmp" || exit 1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext.cnf
{
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 \
		-subj "/CN=sgfw-test-ca-$$" &&
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" \
			-subj "/CN=sgfw-test-$who" &&
		openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out "$who.pem" -days 1 -extfile ext.cnf || exit 1
	done
} >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; sg_fail "certificates"; sg_finish; exit 1; }
cd - >/dev/null || exit 1

client=$(sg_free_port)
peer=$(sg_free_port)
ep=https://127.0.0.1:$client
export ETCDCTL_API=3
etcd --name sgfw-tls --data-dir "$tmp/etcd" \
	--listen-client-urls "$ep" --advertise-client-urls "$ep" \
	--cert-file "$tmp/server.pem" --key-file "$tmp/server.key" \
	--trusted-ca-file "$tmp/ca.pem" --client-cert-auth \
	--listen-peer-urls "http://127.0.0.1:$peer" \
	--initial-advertise-peer-urls "http://127.0.0.1:$peer" \
	--initial-cluster "sgfw-tls=http://127.0.0.1:$peer" >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
up=0
for _ in $(seq 100); do
	etcdctl --endpoints "$ep" --cacert "$tmp/ca.pem" --cert "$tmp/client.pem" \
		--key "$tmp/client.key" endpoint health >/dev/null 2>&1 && { up=1; break; }
	sleep 0.1
done
[ "$up" = 1 ] || { cat "$tmp/etcd.log" >&2; sg_fail "etcd with TLS did not start"; sg_finish; exit 1; }

cat >"$tmp/fleet.conf" <<CONF
security_groups = ( { id = "sg-web"; rules = ( { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_cidr = "0.0.0.0/0"; } ); } );
ports = ( { name = "vm1"; type = "null"; mac = "52:54:00:00:00:01"; ips = ["10.0.0.11"]; security_groups = ["sg-web"]; } );
CONF
tls=(--etcd "$ep" --etcd-ca "$tmp/ca.pem" --etcd-cert "$tmp/client.pem" --etcd-key "$tmp/client.key")
"$SGFWCTL" "${tls[@]}" cluster import "$tmp/fleet.conf" >/dev/null
sg_expect_eq "TLS: cluster import exits 0" 0 "$?"
sg_expect_contains "TLS: cluster export reads it back" 'id = "sg-web";' \
	"$("$SGFWCTL" "${tls[@]}" cluster export)"
"$SGFWCTL" --etcd "$ep" --etcd-ca "$tmp/ca.pem" cluster export >/dev/null 2>"$tmp/err"
sg_expect_eq "TLS: without a client certificate, refused" 1 "$?"
"$SGFWCTL" --etcd "$ep" --etcd-cert "$tmp/client.pem" --etcd-key "$tmp/client.key" \
	cluster export >/dev/null 2>"$tmp/err"
sg_expect_eq "TLS: without the CA, the server is not trusted" 1 "$?"

cat >"$tmp/node.conf" <<CONF
host = "hv1";
cluster = { endpoints = ["$ep"]; state_file = "$tmp/state.json"; ca_file = "$tmp/ca.pem";
  cert_file = "$tmp/client.pem"; key_file = "$tmp/client.key"; };
dataplane = { workers = 1; mbufs = 2047; sleep_max_us = 1000; };
conntrack = { capacity = 4096; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
"$SGFW" -c "$tmp/node.conf" -- --file-prefix="$prefix" >"$tmp/sgfw.log" 2>&1 &
pid=$!
if ! sg_wait_up "$tmp/sgfw.sock" "$pid"; then
	cat "$tmp/sgfw.log" >&2
	sg_fail "sgfw did not come up"
	sg_finish
	exit 1
fi
synced=
for _ in $(seq 100); do
	synced=$("$SGFWCTL" -s "$tmp/sgfw.sock" --json status | sg_json cluster.policy)
	[ "$synced" = synced ] && break
	sleep 0.1
done
sg_expect_eq "TLS: the node syncs" synced "$synced"
"$SGFWCTL" -s "$tmp/sgfw.sock" explain vm1 ingress tcp 10.9.9.9:1000 10.0.0.11:80 >/dev/null
sg_expect_eq "TLS: the node enforces etcd's rule" 0 "$?"

sg_finish
