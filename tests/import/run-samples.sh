#!/bin/bash
# `cgwctl import` on the real public samples in shared/samples (not copied
# into this repository: see shared/samples/SOURCES.md). Each sample has an
# expected exit status below; a written config must pass `cgwd -n`.
# Prints what the importer said for each. Exit 77 (skip) without samples.
#
# usage: run-samples.sh IMPORTER SAMPLES-DIR [CGWD]
set -uo pipefail

drv=$(realpath "$1")
samples=$2
cgwd=${3:-}
[ -z "$cgwd" ] || cgwd=$(realpath "$cgwd")
if [ ! -d "$samples" ]; then
	echo "SKIP: no samples at $samples (shared/samples is not part of the repo)"
	exit 77
fi
samples=$(realpath "$samples")
here=$(cd "$(dirname "$0")" && pwd)
pre=()
[ "$(basename "$drv")" != cgwctl ] || pre=(import)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0

# expected-status source args... (paths relative to the samples folder);
# source frr: the sample as --frr beside the ls-vti fixture's tunnels
cases=(
"0 tfstate tfstate/atiframzan89_client-task-oci-aws__aws_terraform.tfstate"
"0 tfstate tfstate/NileSyndicate_Terraform_AWS_Site-to-Site_VPN__terraform.tfstate.backup"
"1 tfstate tfstate/hashicorp_terraform-provider-aws_issue-5809__state-show-excerpt_TRUNCATED.txt"
"1 tfstate tfstate/lonegunmanb_terraform-aws-schema__awsVpnConnection.provider-schema.json"
"0 aws-xml cgw-xml/netbrain-jwei_vpn-0ecb2a2698b33f4ee.xml"
"0 aws-xml cgw-xml/netbrain-jwei_vpn-0b953fd90796f7c2d.xml"
"0 aws-xml cgw-xml/netbrain-jwei_vpn-0ecb2a2698b33f4ee.xml cgw-xml/netbrain-jwei_vpn-0b953fd90796f7c2d.xml"
"0 aws-xml cgw-xml/atiframzan89_client-task-oci-aws__vpn-09aa16b9cc94877f7_static_from_tfstate.xml"
"0 aws-xml cgw-xml/NileSyndicate_Terraform_AWS_Site-to-Site_VPN__vpn-05283a94b7759def7_static_from_tfstate.xml"
"1 aws-xml cgw-xml/getmoto_moto__CUSTOMER_GATEWAY_CONFIGURATION_TEMPLATE.xml.j2"
"1 aws-xml cgw-xml/hashicorp_terraform-provider-aws__vpnsite_connection_test_testAccVPNTunnelInfoXML.xml"
"1 aws-xml cgw-xml/hashicorp_terraform-provider-aws_issue-17998__tgw-ipv6-inside_TRUNCATED.xml.partial"
"1 libreswan --conf libreswan/rh-mobb_documentation__rosa_s2s-vpn_section14_route-based-vti_ipsec.conf --secrets libreswan/skyuecx0630_aws-s2s-vpn__ipsec.secrets_strongswan-format"
"1 libreswan --conf libreswan/NileSyndicate_Terraform_AWS_Site-to-Site_VPN__vpn-S2S-config.txt --secrets libreswan/NileSyndicate_Terraform_AWS_Site-to-Site_VPN__vpn-S2S-config.txt"
"1 libreswan --conf libreswan/KNotear_file__aws_openswan.sh --secrets libreswan/KNotear_file__aws_openswan.sh"
"1 libreswan --conf libreswan/Minki-An_Team-Project__vpn_config.sh --secrets libreswan/Minki-An_Team-Project__vpn_config.sh"
"0 frr frr/pgastinger_terraform-aws-vpn-bgp-demo__README_router1_vtysh.txt"
"0 frr frr/pgastinger_terraform-aws-vpn-bgp-demo__README_router2_vtysh.txt"
"1 frr frr/aws-samples_vpn-gateway-strongswan__quagga_bgpd.conf_from_cfn.txt"
"1 frr frr/skyuecx0630_aws-s2s-vpn__quagga_bgpd.conf"
"1 frr frr/choisungwook_portfolio__site-to-site-vpn-phase2_frr.conf.template"
"1 frr frr/mrbhardw-dev_aws-vpn-s2s__ONBOARD_EC2.tftpl_frr.conf-heredoc.txt"
"1 frr frr/tyskJ_aws-transitgateway-site-to-site-vpn-single__frr_onpremises_gateway_ec2_a.conf"
"1 libreswan --conf libreswan/RhubarbSin_terraform-aws-vpn-ec2-libreswan-example__user-data-libreswan.yaml --secrets libreswan/RhubarbSin_terraform-aws-vpn-ec2-libreswan-example__user-data-libreswan.yaml"
)

n=0
for c in "${cases[@]}"; do
	read -r want src rest <<<"$c"
	n=$((n + 1))
	args=()
	if [ "$src" = frr ]; then	# FRR samples: with a fixture's Libreswan tunnels
		src=libreswan
		args=(--conf "$here/fixtures/ls-vti.conf" --secrets "$here/fixtures/ls-vti.secrets" --frr)
	fi
	for a in $rest; do
		case "$a" in --*) args+=("$a") ;; *) args+=("$samples/$a") ;; esac
	done
	first=$(echo "$rest" | tr ' ' '\n' | grep -v '^--' | head -1)
	if [ ! -f "$samples/$first" ]; then
		echo "skip $first (not present)"; skip=$((skip + 1)); continue
	fi
	mkdir -p "$tmp/$n"
	status=0
	"$drv" "${pre[@]}" "$src" "${args[@]}" -o "$tmp/$n/cgw.conf" \
		>/dev/null 2>"$tmp/$n/err" || status=$?
	echo "---- $src ${rest//$samples\//} -> exit $status"
	sed "s#$samples/##g; s#$here/##g; s#$tmp/$n#OUT#g" "$tmp/$n/err" | head -n 14 | cut -c1-220
	if [ "$status" != "$want" ]; then
		echo "FAIL expected exit $want"; fail=$((fail + 1)); continue
	fi
	if [ "$status" = 0 ] && [ -n "$cgwd" ] &&
	   ! (cd "$tmp/$n" && "$cgwd" -n -c cgw.conf >/dev/null 2>&1); then
		echo "FAIL cgwd -n refuses the config"; fail=$((fail + 1)); continue
	fi
	pass=$((pass + 1))
done
echo "samples: $pass as expected, $fail not, $skip missing"
[ "$fail" = 0 ]
