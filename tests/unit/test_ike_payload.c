/*
 * IKEv2 wire layer (ike/payload.h): byte-exact round trips on real
 * strongSwan 5.9.8 packets (captured between two charon instances in
 * network namespaces; SK plaintexts decrypted with the logged keys), the
 * builders against those bytes, table-driven malformed messages with the
 * answer RFC 7296 calls for, and the per-exchange payload table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "conf/proposal.h"
#include "ike/payload.h"
#include "ike/wire.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Captured exchange: IKE_SA_INIT with INVALID_KE_PAYLOAD and retry,
 * IKE_AUTH (child refused: no ESP in this kernel), INFORMATIONAL,
 * CREATE_CHILD_SA (new child, refused), CREATE_CHILD_SA (IKE rekey),
 * INFORMATIONAL delete (all 16 datagrams, and the SK plaintexts, are the
 * seeds in tests/fuzz/corpus/ike/). Initiator: proposals
 * aes256-sha256-x25519-modp2048,aes128gcm16-prfsha256-ecp256, ESP
 * aes128gcm16-modp2048,aes256-sha256; responder aes256-sha256-modp2048.
 */
static const char vec0_raw[] =
	"20ea40ee2897a8b700000000000000002120220800000000000001302200005c02000034010100050300000c"
	"0100000c800e0100030000080300000c0300000802000005030000080400001f000000080400000e00000024"
	"020100030300000c01000014800e00800300000802000005000000080400001328000028001f00004ba4b982"
	"39300fd298cef91681ff688c7197673474a1d27a5110e5ac90dac238290000248d9f046340724b1c2856058b"
	"bf37b7c4c408eb2e17b2c2fbb6207fb69d5541f32900001c0000400424a89b798dd3a90bc76473b6a9fa8a2b"
	"54f142f92900001c00004005da0cb89935072d69f349a8085bb79a77aeced341290000080000402e29000010"
	"0000402f00020003000400052b0000080000401600000014882fe56d6fd20dbc2251613b2ebe5beb";
static const char vec1_raw[] =
	"20ea40ee2897a8b7000000000000000029202220000000000000003a2b00000a00000011000e00000014882f"
	"e56d6fd20dbc2251613b2ebe5beb";
static const char vec3_raw[] =
	"20ea40ee2897a8b79afaf38861775d072120222000000000000001ec220000300000002c010100040300000c"
	"0100000c800e0100030000080300000c0300000802000005000000080400000e28000108000e00006466db46"
	"e92b1dba77dc50ad2d10bbab956f56d24749cf347a95d0bc5c6137663b02369f85edcb45198491d0cc2affbe"
	"e0a741445fc3b390ad914e9c692f8ab1c6396f4d86d4d0d7f6c4ffc2a20a21c8d4e832fd059a72cfe7d30fe0"
	"7de7190e0601ef5f610d23812a648254c416c6a009c98fd9202b2111593a8ac30028f43917cdd9ce4d6e5455"
	"3bc539fd7bdc89ec5f48b9667902ea44ad95abad0a39a61703117d961d3a8b994a465eb800d7c3491c6ad7fc"
	"e5834531526e59cc6d03e609ba39328211ca2c5974127f99f3b4cba248b1aeafe5c529936d748c6e33185077"
	"381bcaf279a91fd06549c01957cea049817e65494c1632de4d9e8a6b63740f5e290000248469ae3e5a8dcfac"
	"52a6be5d87991eea0d957b3fb9269ca32db6e6ed16b9a6222900001c000040040df923c5ef426fc9a3416d15"
	"21776bacbf12ed482900001c000040057ca545ac0906e098c33575cbc73c6d4da7f593ca290000080000402e"
	"290000100000402f000200030004000529000008000040222b0000080000401400000014882fe56d6fd20dbc"
	"2251613b2ebe5beb";
static const char vec4_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e202308000000010000013023000114de4ed27aa65c777b12a6230e"
	"32dacf58b7adc806c6e41b21bc3f6bef42fc091ef287fbed1d41f8d876a0b454f0108cd73d59989223949e5c"
	"f2690735c44486115d454529d4856a2f30f28f2b4d349f441e16ded4f0d3e47a46f1e9f4a3c4155884406406"
	"40c932fdb5b26fff2d00f19aae24ac565859804008bbc7ec61da821709cc43ebc6d9f6fc7fceda513f3fb50f"
	"2f40abf29c149b66488362009b036a3e51da1220a3274374d747bc66f84e4a6e2929673659e656226287c0d5"
	"d8e5228094fe8865286a0b49c9c1a21a3a669f0b070cda7a9f3cdb32790f28af90de46e07f162b442472ac48"
	"07ecf44d5ad082d3870365319d9f30dc1fdf0f879fc5644fc3c4afeff57c266b733a1353a10e50e9";
static const char vec4_inner[] =
	"2900000c010000000a4d000124000008000040002700000c010000000a4d00022100002802000000557035f7"
	"942e16aeae62119c3b830a585cd4593c6b041245069c43758c1967a92c00004c0200002001030402c8ba0e82"
	"0300000c01000014800e008000000008050000000000002802030403c8ba0e820300000c0100000c800e0100"
	"030000080300000c00000008050000002d00001801000000070000100000ffff0a4d01000a4d01ff29000018"
	"01000000070000100000ffff0a4d02000a4d02ff290000080000400c290000080000400f2900000800004014"
	"29000008000040210000000800004024";
static const char vec5_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e2023200000000100000090240000741f200f03ac81465488ade114"
	"e2c36019619c00bc53885ae5784f13805f15b5e961c42a589ac5ec48fe2dc8949a53ff0460f032368d22ed4d"
	"1f297407d5850e9ebd93905e70eb3f47fed2ee09e6bcbe5cf31b900486ced05e800edbae0ef86fc63002d671"
	"5b3e4c692f4828a1db4c4b6e";
static const char vec5_inner[] =
	"2700000c010000000a4d0002290000280200000011dec74156fbf4527d64865430d63e43daa6947d2f0d9a54"
	"89682781e4d3bdbe290000080000400c290000080000400f000000080000000e";
static const char vec6_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e202500000000000000005029000034040b5d4e08e47c4d85f51d1f"
	"f49331328efa319a5104d279f29c674934f2e45979ae61b112ba73e0f5c9af4d125c8798";
static const char vec6_inner[] =
	"000000080000400f";
static const char vec7_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e20252800000000000000500000003493ba9e14a9db28b6d26aece6"
	"1996cb87d9c64eb8327bdac96070fd1a18e6d211d2cb52bf3ce42b3bba64e358377ecf51";
static const char vec8_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e2024080000000200000200210001e4b5814ff3e1f08d3a8ab7e3cf"
	"cec205a65a76f45a5ff08fe2f79e5ad84093367fa9505a6be500cafc92bb19d1599a223b1593e4f10fcb39a2"
	"96078b18d9ea629343da7b99bff78fdb00dffd927517fea0a1905312276ddc90f7bb8a66d24735177e9ab28b"
	"e59a557125ce9ed9259edaa1a8bd9f9e51a0580f262e6e25af81ea2eeab6194406946f7e4d37204eaa1dfae7"
	"e674ffb2346465638b4718c63e8ac42f7f08c826eb289f66ba593982e808d6fa2077845c00fbadaff5c44187"
	"13093c69961a5008766a22f0dfbd4ee725bb2de73b00c2f9416298cdd3c21c326144974bbd35c3208c9bd83d"
	"55c734fa9953ed3f339d47d9737f08d1b14896719f66c4f08ea75174932bfb59de98e2e852695bfeb3325fbd"
	"d98fd35d5df0346a6a8d3f8d880b60bd7b0ef107d76614afb4873b9090ed13ed8c5c9f4792fce496d428b4b1"
	"a9118a8dc802887f5f14cabb270f2228b0bb20c9af05c3fad384e06903124af8d078d0f4eb594ba324d258de"
	"4d9448227a4a454d42b57e1444e998f087dd27fbbbfb2d6af27ca5c42df75c76d0406f3c14d9cda64450d629"
	"fc84f4be9143a3d247792d64d7f5cacf9e54ff5beab173be4726370781849f0c6826da33ecb192a33d80fe65"
	"38e8e5e958d6b9925d581b8a56794714ff2e42462e0977e9065a56d0";
static const char vec8_inner[] =
	"280000540200002801030403c72782ed0300000c01000014800e0080030000080400000e0000000805000000"
	"0000002802030403c72782ed0300000c0100000c800e0100030000080300000c000000080500000022000024"
	"933a4442c00d2420037e8d2ce748f66a83122e6c95df69aaced302c2cf375f412c000108000e000030efc767"
	"7ba433b63aecfc46d92e4d2047acd53056b47908cb5de7a26538ba40ef226f054dc18f8e32ab94a82526b19c"
	"b6d73d9192147a5e8f0360009a5a45e79ba9ef626b34c340234468dc508b398ec8ce011d2c2e3dc762a7b544"
	"a994a141dfa52b1ba8468a7a9351d2f7fa878fc190230fe1a599e53f337a6812a1f2be4bb0a130c502c5f6d0"
	"b424be41036577131345eac1c16f212e9ac89e6b1daf08bc4052c547fccc9bcd9ba63656b3397efc4cba7391"
	"81239fac70641f774119defec3eb9d018547784edc3fd356900ead90274876a84c70137bc67107240440da32"
	"6380ee05f08161954b52f0856759cac4216f391d58584a4be4b3034af81a84b22d0000180100000007000010"
	"0000ffff0a4d01000a4d01ff0000001801000000070000100000ffff0a4d02000a4d02ff";
static const char vec9_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e202420000000020000005029000034c6a0b672c4f4111f24f00909"
	"ba2583d3a74f3911d1d4182f0f0c7aec68205a049cc047c22b2c777e70375449298079bb";
static const char vec9_inner[] =
	"000000080000000e";
static const char vec10_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e20240800000003000001e0210001c441535abaad40a2e54a215e00"
	"48e5933559b360ff90a94e916b23c02a7d8057a04368828e7f4e233fc37f7a5a20b9d415b747b9a13f71ace1"
	"aff3faa4a7b16c5eab71039410f17dbbca544c7359f5608799180e7fd8c6bd8365f98b7d72f1e58f8fbe4c04"
	"d8fcb083509d5e1727de4ea6a48903b31de21bba8808143924dc461eb2777812239f59f2e577654543789577"
	"e52dad01da25834f9ec8fcba79808c5f0010e05131f9cbd4f2275626bbdf0628d75bb01cf7e6eda8e64e3547"
	"2632bd05bbc9325143e9cbbd78f46994b310725d3f8f1eba80aca8d1dd4521c7e6974af3d00fcda9f261f3d9"
	"8719cef1a4c447daf4888df5a1492ab8b0ed9d3732ac13a0d5c70dd5d5e8425cebea682dc019b457e9eb9602"
	"0a9d58cde34069193f2bdd58f6422cd16fbfb830d5be7f9382e991358748743a64520bbcc07640273c0a44aa"
	"da16e1ca938de01b5e140abf811725a32bd6086eb590b7ceb48318da0c38829dc58174d8fd4e2196fe626ce9"
	"9c10a2021232a5893025a6f35dbf16a2f3333f8eaf46cb1c3c36fccd246080413f7bd50a397aa3ff9f63186e"
	"ef73aad675508d2b301ec701330608b6241a2a838e24418957b542d0e6e56a504f220275a4d34833";
static const char vec10_inner[] =
	"2800006c0200003c01010805c299fb2676ff093f0300000c0100000c800e0100030000080300000c03000008"
	"02000005030000080400000e000000080400001f0000002c02010803c299fb2676ff093f0300000c01000014"
	"800e00800300000802000005000000080400001322000024e15c6b69c3c7a917feb9a27766ed848cef72aa1f"
	"f6d00ba382db6feebb8b701100000108000e00000c2253d92aee75366eb79e0586c2cab1b626628c9c31e749"
	"31f3379a7a6be201b831b5346ebd2964f98edda003f1558d25247446d1f6b95148ad6d48ca54c421019d1c93"
	"8895128ff42d76923a24564b11c16151201b894cf3446f58365907965e0c96eedb6f65ec7d019dc31cd58336"
	"c2f9338a6ff97ba22bdf813b1770a5a913b5c47c0fc7a84072b709a1ff29bd573eb50e7413a7f17cffabbf03"
	"cca269f421ff35b51b1f24af0d4aa66429a7b7d246fe1e83a7d6655e88bf800143c87986f0396463307892c8"
	"8542337d01f873385e57b9a8eceb638576852ca68030eeb17a8f803a74e4c693e5904d81795c118a6c5f382f"
	"781b9e30cccaac8370ff395c";
static const char vec11_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e20242000000003000001b021000194ef14d78df426d5dd8fb131cd"
	"7c79c5d3d39b1d452b699819b6167138d04f30db23fccd7a1f849545042181480ef17fa2624f2f198dd07ddb"
	"6b15982f2feb6de398a392796b55b2a2d5241c5fe357e49c692041a2f38c943025b8b9e47c8916d2bf98dccd"
	"c5e893b9fd49363d5930ca2c185aea9fc8cc2c6771f15f5991f20ae773591e36da9dc689e560965e01722677"
	"f242aa5a1e4bc154ab8888598baa56e9a2d3801c4b3dc52b8890d08fc49a11a4ee574ec165510abf07692b0d"
	"8bcfe6ebbc24cfec9cec7d41e454ad5d31cf09b1c10bd1fc91233dd5951d0b586085b2dcfdea4966bb7edb6a"
	"bab3d18c8c4760bcd5f7769d5346d5a0cf9f8df656f6dae73d830b2da22c4853dda11944b217a473e344b348"
	"6f96b94782f724e091bcd292f9b45c849e120db82921bc0f47f78f692527b630646cfd9f6c0ee43f788071f7"
	"4cffa59af27a9dedc62336a9243630f5a5fc808d7b1fdd7ef46675e5a4e1a521b204e60c6f0af397713e98e1"
	"f3bb21b0dd7571ff9fc81aa37a18d8b6eec850f34c6367aee4c1fd7361251e0c091ff0f3";
static const char vec11_inner[] =
	"280000380000003401010804fcdc04ba8457aa0e0300000c0100000c800e0100030000080300000c03000008"
	"02000005000000080400000e220000240e6e06d3cb1730e65471cb483939b89579cd9e32c4fbbd614c7a58a7"
	"b195f00200000108000e0000d12cf3b99e6fe14c6c9ca8a6ea90205535691952d109ffeef88794e1861f5673"
	"80c092f4f4316d4e76fb7c9b5391d9d131487545ea22de0f5bec9550b429ba904e9940b1819ad4b116004c58"
	"3356c49ba9389e65aae38c500126799e54de0ade7bfc76549c542cf47f8ca8a162b15fb8afb068d53d51e970"
	"f80f01ed3b3680612731b7bac5ff62bafb91921fe5829c72a25f4be9b471079c76b37ef1b3a16c1c89abfa53"
	"5c881121f8e232f8cbfe3cdb955736a30747d1c34da96a0c455b925ca8839946a0ed992b8d82b63bca71a3d6"
	"11b9fbb3321105b786a18dfc06f502afe58ccaf5a1782b8ecb86eb4ec8ccec48200f92dff5957b8739110e56"
	"52343487";
static const char vec12_raw[] =
	"20ea40ee2897a8b79afaf38861775d072e20250800000004000000502a00003430afa9a63435bed2a0550367"
	"e5cac038c91d27d1ab0e44678e670b34a935c25a87424075c578c9dc74b813689463939d";
static const char vec12_inner[] =
	"0000000801000000";

#define SUM_SA_INIT_I "SA KE No N(NAT_DETECTION_SOURCE_IP) " \
	"N(NAT_DETECTION_DESTINATION_IP) N(IKEV2_FRAGMENTATION_SUPPORTED) " \
	"N(SIGNATURE_HASH_ALGORITHMS) N(REDIRECT_SUPPORTED) V"

struct vector {
	const char *name;
	const char *raw;
	const char *inner;		/* decrypted SK plaintext, no padding */
	const char *summary;		/* after the inner chain is parsed */
	enum ike_form form;
};

static const struct vector vectors[] = {
	{ "IKE_SA_INIT request x25519", vec0_raw, NULL, SUM_SA_INIT_I,
	  IKE_FORM_SA_INIT },
	{ "IKE_SA_INIT INVALID_KE_PAYLOAD", vec1_raw, NULL,
	  "N(INVALID_KE_PAYLOAD) V", IKE_FORM_SA_INIT_ERROR },
	{ "IKE_SA_INIT response", vec3_raw, NULL,
	  "SA KE No N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP) "
	  "N(IKEV2_FRAGMENTATION_SUPPORTED) N(SIGNATURE_HASH_ALGORITHMS) "
	  "N(CHILDLESS_IKEV2_SUPPORTED) N(MULTIPLE_AUTH_SUPPORTED) V",
	  IKE_FORM_SA_INIT },
	{ "IKE_AUTH request", vec4_raw, vec4_inner,
	  "IDi N(INITIAL_CONTACT) IDr AUTH SA TSi TSr N(MOBIKE_SUPPORTED) "
	  "N(NO_ADDITIONAL_ADDRESSES) N(MULTIPLE_AUTH_SUPPORTED) "
	  "N(EAP_ONLY_AUTHENTICATION) N(IKEV2_MESSAGE_ID_SYNC_SUPPORTED)",
	  IKE_FORM_AUTH_CHILD },
	{ "IKE_AUTH response, child refused", vec5_raw, vec5_inner,
	  "IDr AUTH N(MOBIKE_SUPPORTED) N(NO_ADDITIONAL_ADDRESSES) "
	  "N(NO_PROPOSAL_CHOSEN)", IKE_FORM_AUTH_NO_CHILD },
	{ "INFORMATIONAL from the responder", vec6_raw, vec6_inner,
	  "N(NO_ADDITIONAL_ADDRESSES)", IKE_FORM_INFO },
	{ "INFORMATIONAL empty response", vec7_raw, "", "", IKE_FORM_INFO },
	{ "CREATE_CHILD_SA new child", vec8_raw, vec8_inner, "SA No KE TSi TSr",
	  IKE_FORM_CHILD },
	{ "CREATE_CHILD_SA NO_PROPOSAL_CHOSEN", vec9_raw, vec9_inner,
	  "N(NO_PROPOSAL_CHOSEN)", IKE_FORM_CHILD_ERROR },
	{ "CREATE_CHILD_SA rekey IKE request", vec10_raw, vec10_inner, "SA No KE",
	  IKE_FORM_REKEY_IKE },
	{ "CREATE_CHILD_SA rekey IKE response", vec11_raw, vec11_inner, "SA No KE",
	  IKE_FORM_REKEY_IKE },
	{ "INFORMATIONAL delete IKE SA", vec12_raw, vec12_inner, "D", IKE_FORM_INFO },
};

static uint8_t hexval(char c)
{
	return (uint8_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

/* Decode hex into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return n;
}

static struct ike_msg msg;		/* large: keep it off the stack */
static uint8_t dgram[8192], plain[4096], out[8192];

/* Parse a vector through every stage; returns the datagram length. */
static size_t parse_vector(const struct vector *v, struct ike_msg *m)
{
	struct ike_result res;
	size_t len = unhex(v->raw, dgram, sizeof(dgram)), plen;

	assert_int_equal(ike_msg_parse(dgram, len, m, &res), 0);
	assert_int_equal(res.code, IKE_PERR_NONE);
	assert_int_equal(ike_msg_check_rules(m, &res), 0);
	if (v->inner) {
		assert_int_equal(res.form, IKE_FORM_UNKNOWN);
		plen = unhex(v->inner, plain, sizeof(plain));
		assert_int_equal(ike_msg_parse_inner(m, plain, plen, &res), 0);
		assert_int_equal(ike_msg_check_rules(m, &res), 0);
	}
	if (res.form != v->form)
		fail_msg("%s: form %s, want %s (%s)", v->name, ike_form_name(res.form),
			 ike_form_name(v->form), res.reason);
	return len;
}

static void test_vectors_round_trip(void **state)
{
	for (size_t i = 0; i < N(vectors); i++) {
		const struct vector *v = &vectors[i];
		struct buf_writer w;
		char sum[512];
		size_t len, plen;

		print_message("vector %zu: %s\n", i, v->name);
		len = parse_vector(v, &msg);
		assert_string_equal(ike_msg_summary(&msg, sum, sizeof(sum)), v->summary);
		/* parse -> build gives back the same bytes. */
		wr_init(&w, out, sizeof(out));
		assert_int_equal(ike_build_from_msg(&w, &msg), 0);
		assert_int_equal(wr_len(&w), len);
		assert_memory_equal(out, dgram, len);
		if (!v->inner)
			continue;
		plen = strlen(v->inner) / 2;
		wr_init(&w, out, sizeof(out));
		assert_int_equal(ike_build_inner_from_msg(&w, &msg), 0);
		assert_int_equal(wr_len(&w), plen);
		assert_memory_equal(out, plain, plen);
	}
}

static const struct vector *vec_named(const char *name)
{
	for (size_t i = 0; i < N(vectors); i++)
		if (!strcmp(vectors[i].name, name))
			return &vectors[i];
	fail_msg("no vector %s", name);
	return NULL;
}

static void assert_xf(const struct ike_transform *xf, uint8_t type, uint16_t id,
		      int keylen)
{
	assert_int_equal(xf->type, type);
	assert_int_equal(xf->id, id);
	assert_int_equal(xf->has_keylen, keylen >= 0);
	if (keylen >= 0)
		assert_int_equal(xf->keylen, keylen);
	assert_false(xf->unknown_attrs);
}

/* A parsed proposal converted for matching, in the config's spelling. */
static void assert_proposal_str(const struct ike_proposal *pp,
				enum proposal_kind kind, const char *want)
{
	struct cgw_proposals ps = { .n = 1 };
	uint8_t spi[8];
	size_t spi_len;
	char buf[256];

	assert_int_equal(ike_proposal_to_cgw(pp, &ps.p[0], spi, &spi_len), 0);
	assert_int_equal(spi_len, pp->spi.len);
	assert_string_equal(proposal_str(&ps, kind, buf, sizeof(buf)), want);
}

static void test_sa_init_fields(void **state)
{
	const struct ike_sa_pl *sa = &msg.sa;

	parse_vector(vec_named("IKE_SA_INIT request x25519"), &msg);
	assert_true(msg.hdr.spi_i == 0x20ea40ee2897a8b7ull && msg.hdr.spi_r == 0);
	assert_true(msg.hdr.exchange == IKE_EXCH_IKE_SA_INIT && msg.hdr.msgid == 0);
	assert_true(msg.hdr.flags == IKE_FLAG_I && msg.hdr.version == IKE_VERSION);
	assert_int_equal(msg.hdr.length, 304);
	assert_int_equal(sa->n_prop, 2);
	assert_int_equal(sa->prop[0].num, 1);
	assert_int_equal(sa->prop[0].protocol, IKE_PROTO_IKE);
	assert_int_equal(sa->prop[0].spi.len, 0);
	assert_int_equal(sa->prop[0].n_xf, 5);
	assert_xf(&sa->prop[0].xf[0], IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 256);
	assert_xf(&sa->prop[0].xf[1], IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, -1);
	assert_xf(&sa->prop[0].xf[2], IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_256, -1);
	assert_xf(&sa->prop[0].xf[3], IKE_TRANSFORM_DH, 31, -1);
	assert_xf(&sa->prop[0].xf[4], IKE_TRANSFORM_DH, 14, -1);
	assert_int_equal(sa->prop[1].num, 2);
	assert_int_equal(sa->prop[1].n_xf, 3);
	assert_xf(&sa->prop[1].xf[0], IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 128);
	assert_proposal_str(&sa->prop[0], PROPOSAL_IKE, "aes256-sha256-x25519-modp2048");
	assert_proposal_str(&sa->prop[1], PROPOSAL_IKE, "aes128gcm16-prfsha256-ecp256");
	assert_int_equal(msg.ke.group, 31);
	assert_int_equal(msg.ke.data.len, 32);
	assert_int_equal(msg.nonce.len, 32);
	assert_int_equal(msg.n_notify, 5);
	assert_int_equal(msg.notify[0].type, IKE_N_NAT_DETECTION_SOURCE_IP);
	assert_int_equal(msg.notify[0].data.len, 20);
	assert_int_equal(msg.notify[3].data.len, 8);	/* four hash algorithms */
	assert_null(ike_msg_error_notify(&msg));
	assert_int_equal(msg.n_vid, 1);
	assert_int_equal(msg.vid[0].len, 16);

	parse_vector(vec_named("IKE_SA_INIT INVALID_KE_PAYLOAD"), &msg);
	assert_non_null(ike_msg_error_notify(&msg));
	assert_int_equal(ike_msg_error_notify(&msg)->type, IKE_N_INVALID_KE_PAYLOAD);
	assert_int_equal(msg.notify[0].data.len, 2);
	assert_int_equal(msg.notify[0].data.p[1], 14);	/* wants modp2048 */

	parse_vector(vec_named("IKE_SA_INIT response"), &msg);
	assert_true(msg.hdr.spi_r != 0);
	assert_int_equal(sa->n_prop, 1);
	assert_proposal_str(&sa->prop[0], PROPOSAL_IKE, "aes256-sha256-modp2048");
	assert_int_equal(msg.ke.group, 14);
	assert_int_equal(msg.ke.data.len, 256);
	assert_non_null(ike_msg_notify(&msg, IKE_N_CHILDLESS_IKEV2_SUPPORTED));
}

static void test_inner_fields(void **state)
{
	static const uint8_t net1[4] = { 10, 77, 1, 0 }, bc1[4] = { 10, 77, 1, 255 };
	const struct ike_ts_entry *ts;

	parse_vector(vec_named("IKE_AUTH request"), &msg);
	assert_true(msg.decrypted);
	assert_int_equal(msg.idi.type, IKE_ID_IPV4_ADDR);
	assert_memory_equal(msg.idi.data.p, "\x0a\x4d\x00\x01", 4);
	assert_int_equal(msg.idi.body.len, 8);
	assert_int_equal(msg.idr.type, IKE_ID_IPV4_ADDR);
	assert_int_equal(msg.auth.method, IKE_AUTH_SHARED_KEY_MIC);
	assert_int_equal(msg.auth.data.len, 32);
	assert_int_equal(msg.sa.n_prop, 2);
	assert_int_equal(msg.sa.prop[0].protocol, IKE_PROTO_ESP);
	assert_memory_equal(msg.sa.prop[0].spi.p, "\xc8\xba\x0e\x82", 4);
	assert_proposal_str(&msg.sa.prop[0], PROPOSAL_ESP, "aes128gcm16-noesn");
	assert_proposal_str(&msg.sa.prop[1], PROPOSAL_ESP, "aes256-sha256-noesn");
	assert_int_equal(msg.tsi.n, 1);
	ts = &msg.tsi.ts[0];
	assert_int_equal(ts->type, IKE_TS_IPV4_ADDR_RANGE);
	assert_int_equal(ts->ip_proto, 0);
	assert_int_equal(ts->start_port, 0);
	assert_int_equal(ts->end_port, 65535);
	assert_memory_equal(ts->start, net1, 4);
	assert_memory_equal(ts->end, bc1, 4);
	assert_int_equal(msg.sk.first, IKE_PL_IDI);
	assert_int_equal(msg.sk.aad.len, 32);
	assert_int_equal(msg.sk.body.len, 304 - 32);

	parse_vector(vec_named("CREATE_CHILD_SA rekey IKE request"), &msg);
	assert_int_equal(msg.sa.prop[0].spi.len, 8);
	assert_proposal_str(&msg.sa.prop[0], PROPOSAL_IKE, "aes256-sha256-modp2048-x25519");

	parse_vector(vec_named("INFORMATIONAL delete IKE SA"), &msg);
	assert_int_equal(msg.n_delete, 1);
	assert_int_equal(msg.del[0].protocol, IKE_PROTO_IKE);
	assert_int_equal(msg.del[0].n_spi, 0);
}

static const struct span no_spi = { NULL, 0 };

static struct span sp(const void *p, size_t len)
{
	struct span s = { p, len };

	return s;
}

static void parse_props(const char *text, enum proposal_kind kind,
			struct cgw_proposals *ps)
{
	char err[256];

	assert_int_equal(proposal_parse(text, kind, ps, err, sizeof(err)), 0);
}

/* Start a headerless chain over buf. */
static void chain_on(struct buf_writer *w, struct ike_chain *ch, uint8_t *buf,
		     size_t cap)
{
	wr_init(w, buf, cap);
	ike_chain_init(ch, w);
}

/* Compare what w holds with a vector (datagram or inner chain). */
static void assert_built(const struct buf_writer *w, const char *hex)
{
	static uint8_t want[8192];
	size_t n = unhex(hex, want, sizeof(want));

	assert_false(wr_failed(w));
	assert_int_equal(wr_len(w), n);
	assert_memory_equal(w->buf, want, n);
}

/* IKE_SA_INIT messages from typed inputs, byte for byte as strongSwan. */
static void test_build_sa_init(void **state)
{
	static struct ike_msg ref;
	struct cgw_proposals ps;
	struct ike_msg_builder b;
	struct buf_writer w;

	parse_vector(vec_named("IKE_SA_INIT request x25519"), &ref);
	parse_props("aes256-sha256-x25519-modp2048,aes128gcm16-prfsha256-ecp256",
		    PROPOSAL_IKE, &ps);
	wr_init(&w, out, sizeof(out));
	ike_build_begin(&b, &w, &ref.hdr);
	ike_put_sa(&b.ch, &ps, IKE_PROTO_IKE, no_spi);
	ike_put_ke(&b.ch, 31, ref.ke.data);
	ike_put_nonce(&b.ch, ref.nonce);
	for (size_t i = 0; i < ref.n_notify; i++)
		ike_put_notify(&b.ch, 0, no_spi, ref.notify[i].type, ref.notify[i].data);
	ike_put_vid(&b.ch, ref.vid[0]);
	assert_int_equal(ike_build_end(&b), 0);
	assert_built(&w, vec0_raw);

	/* The responder's answer: one chosen proposal, numbered as offered. */
	parse_vector(vec_named("IKE_SA_INIT response"), &ref);
	parse_props("aes256-sha256-modp2048", PROPOSAL_IKE, &ps);
	wr_init(&w, out, sizeof(out));
	ike_build_begin(&b, &w, &ref.hdr);
	ike_put_sa_chosen(&b.ch, &ps.p[0], 1, IKE_PROTO_IKE, no_spi);
	ike_put_ke(&b.ch, 14, ref.ke.data);
	ike_put_nonce(&b.ch, ref.nonce);
	for (size_t i = 0; i < ref.n_notify; i++)
		ike_put_notify(&b.ch, 0, no_spi, ref.notify[i].type, ref.notify[i].data);
	ike_put_vid(&b.ch, ref.vid[0]);
	assert_int_equal(ike_build_end(&b), 0);
	assert_built(&w, vec3_raw);

	parse_vector(vec_named("IKE_SA_INIT INVALID_KE_PAYLOAD"), &ref);
	wr_init(&w, out, sizeof(out));
	ike_build_begin(&b, &w, &ref.hdr);
	ike_put_notify(&b.ch, 0, no_spi, IKE_N_INVALID_KE_PAYLOAD, sp("\x00\x0e", 2));
	ike_put_vid(&b.ch, ref.vid[0]);
	assert_int_equal(ike_build_end(&b), 0);
	assert_built(&w, vec1_raw);
}

static void put_ts_1(struct ike_chain *ch, uint8_t which, uint8_t net)
{
	struct ike_ts_entry ts = {
		.type = IKE_TS_IPV4_ADDR_RANGE, .start_port = 0, .end_port = 65535,
		.start = { 10, 77, net, 0 }, .end = { 10, 77, net, 255 },
	};

	ike_put_ts(ch, which, &ts, 1);
}

/* The IKE_AUTH request plaintext from typed inputs, then SK framing. */
static void test_build_ike_auth(void **state)
{
	static const uint16_t tail[] = {
		IKE_N_MOBIKE_SUPPORTED, IKE_N_NO_ADDITIONAL_ADDRESSES,
		IKE_N_MULTIPLE_AUTH_SUPPORTED, IKE_N_EAP_ONLY_AUTHENTICATION,
		IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED,
	};
	static struct ike_msg ref;
	static uint8_t inner_buf[1024];
	struct cgw_proposals ps;
	struct buf_writer iw, w;
	struct ike_chain ch;
	struct ike_sk_layout lay;
	struct ike_result res;
	struct buf_reader r;
	size_t rawlen;

	parse_vector(vec_named("IKE_AUTH request"), &ref);
	parse_props("aes128gcm16,aes256-sha256", PROPOSAL_ESP, &ps);
	chain_on(&iw, &ch, inner_buf, sizeof(inner_buf));
	ike_put_id(&ch, IKE_PL_IDI, IKE_ID_IPV4_ADDR, sp("\x0a\x4d\x00\x01", 4));
	ike_put_notify(&ch, 0, no_spi, IKE_N_INITIAL_CONTACT, no_spi);
	ike_put_id(&ch, IKE_PL_IDR, IKE_ID_IPV4_ADDR, sp("\x0a\x4d\x00\x02", 4));
	ike_put_auth(&ch, IKE_AUTH_SHARED_KEY_MIC, ref.auth.data);
	ike_put_sa(&ch, &ps, IKE_PROTO_ESP, sp("\xc8\xba\x0e\x82", 4));
	put_ts_1(&ch, IKE_PL_TSI, 1);
	put_ts_1(&ch, IKE_PL_TSR, 2);
	for (size_t i = 0; i < N(tail); i++)
		ike_put_notify(&ch, 0, no_spi, tail[i], no_spi);
	assert_built(&iw, vec4_inner);

	/* Framing: AES-CBC-256 + HMAC-SHA256-128 sizes, as strongSwan sent. */
	wr_init(&w, out, sizeof(out));
	assert_int_equal(ike_build_sk_msg(&w, &ref.hdr, &ch, 16, 16, 16, &lay), 0);
	rawlen = unhex(vec4_raw, dgram, sizeof(dgram));
	assert_int_equal(wr_len(&w), rawlen);
	assert_int_equal(lay.aad_at, 0);
	assert_int_equal(lay.aad_len, 32);
	assert_memory_equal(out, dgram, lay.aad_len);
	assert_int_equal(lay.iv_at, 32);
	assert_int_equal(lay.ct_at, 48);
	assert_int_equal(lay.ct_len, 240);
	assert_int_equal(lay.icv_at, rawlen - 16);
	/* Unencrypted here: the plaintext sits at ct_at, padding after it. */
	assert_int_equal(ike_msg_parse(out, wr_len(&w), &msg, &res), 0);
	assert_int_equal(msg.sk.body.len, 16 + 240 + 16);
	rd_init(&r, out, wr_len(&w));
	rd_skip(&r, lay.ct_at);
	assert_int_equal(ike_msg_parse_inner(&msg, rd_ptr(&r, wr_len(&iw)),
					     wr_len(&iw), &res), 0);
	assert_int_equal(ike_msg_check_rules(&msg, &res), 0);
	assert_int_equal(res.form, IKE_FORM_AUTH_CHILD);
}

static void test_build_child_and_rekey(void **state)
{
	static struct ike_msg ref;
	struct cgw_proposals ps;
	struct buf_writer w;
	struct ike_chain ch;

	parse_vector(vec_named("CREATE_CHILD_SA new child"), &ref);
	parse_props("aes128gcm16-modp2048,aes256-sha256", PROPOSAL_ESP, &ps);
	chain_on(&w, &ch, out, sizeof(out));
	ike_put_sa(&ch, &ps, IKE_PROTO_ESP, sp("\xc7\x27\x82\xed", 4));
	ike_put_nonce(&ch, ref.nonce);
	ike_put_ke(&ch, 14, ref.ke.data);
	put_ts_1(&ch, IKE_PL_TSI, 1);
	put_ts_1(&ch, IKE_PL_TSR, 2);
	assert_built(&w, vec8_inner);

	parse_vector(vec_named("CREATE_CHILD_SA rekey IKE response"), &ref);
	parse_props("aes256-sha256-modp2048", PROPOSAL_IKE, &ps);
	chain_on(&w, &ch, out, sizeof(out));
	ike_put_sa_chosen(&ch, &ps.p[0], 1, IKE_PROTO_IKE, ref.sa.prop[0].spi);
	ike_put_nonce(&ch, ref.nonce);
	ike_put_ke(&ch, 14, ref.ke.data);
	assert_built(&w, vec11_inner);

	chain_on(&w, &ch, out, sizeof(out));
	ike_put_delete(&ch, IKE_PROTO_IKE, 0, 0, no_spi);
	assert_built(&w, vec12_inner);
}

/* Builders refuse what they cannot encode, through the writer. */
static void test_build_errors(void **state)
{
	static const uint8_t spis[8] = { 0xc0, 0, 0, 1, 0xc0, 0, 0, 2 };
	struct cgw_proposals ps;
	struct buf_writer w, iw;
	struct ike_chain ch, inner;
	struct ike_sk_layout lay;
	uint8_t small[40];

	parse_props("aes128-sha256-modp2048,aes256-sha256-modp2048", PROPOSAL_IKE, &ps);
	chain_on(&w, &ch, small, sizeof(small));
	ike_put_sa(&ch, &ps, IKE_PROTO_IKE, no_spi);	/* 92 bytes */
	assert_true(wr_failed(&w));

	chain_on(&w, &ch, out, sizeof(out));
	ike_put_sa_chosen(&ch, &ps.p[0], 0, IKE_PROTO_IKE, no_spi);	/* number 0 */
	assert_true(wr_failed(&w));

	chain_on(&w, &ch, out, sizeof(out));
	ike_put_nonce(&ch, sp(spis, 8));		/* too short */
	assert_true(wr_failed(&w));

	chain_on(&w, &ch, out, sizeof(out));
	ike_put_delete(&ch, IKE_PROTO_ESP, 4, 3, sp(spis, 8));	/* 3 SPIs in 8 bytes */
	assert_true(wr_failed(&w));

	/* Nothing may follow SK. */
	chain_on(&iw, &inner, small, sizeof(small));
	chain_on(&w, &ch, out, sizeof(out));
	ike_put_sk(&ch, &inner, 8, 1, 16, &lay);
	assert_false(wr_failed(&w));
	assert_int_equal(lay.ct_len, 1);		/* just the pad length */
	ike_put_vid(&ch, sp(spis, 8));
	assert_true(wr_failed(&w));
}

/* build -> parse -> compare: IPv6 selectors, FQDN and KEY_ID identities. */
static void test_build_parse_v6(void **state)
{
	struct ike_ts_entry ts[2] = {
		{ .type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = 17, .start_port = 500,
		  .end_port = 500, .start = { 192, 0, 2, 1 }, .end = { 192, 0, 2, 1 } },
		{ .type = IKE_TS_IPV6_ADDR_RANGE, .end_port = 65535,
		  .start = { 0x20, 0x01, 0x0d, 0xb8 }, .end = { 0x20, 0x01, 0x0d, 0xb9 } },
	};
	struct ike_hdr h = { .spi_i = 1, .spi_r = 2, .version = IKE_VERSION,
			     .exchange = IKE_EXCH_IKE_AUTH, .flags = IKE_FLAG_R };
	static uint8_t ibuf[512];
	struct buf_writer w, iw;
	struct ike_chain ch;
	struct ike_sk_layout lay;
	struct ike_result res;

	chain_on(&iw, &ch, ibuf, sizeof(ibuf));
	ike_put_id(&ch, IKE_PL_IDR, IKE_ID_FQDN, sp("vpn.example", 11));
	ike_put_auth(&ch, IKE_AUTH_SHARED_KEY_MIC, sp(ts, 32));
	ike_put_ts(&ch, IKE_PL_TSI, ts, 2);
	ike_put_ts(&ch, IKE_PL_TSR, &ts[1], 1);
	ike_put_id(&ch, IKE_PL_IDI, IKE_ID_KEY_ID, sp("\x01", 1));	/* not here */
	wr_init(&w, dgram, sizeof(dgram));
	assert_int_equal(ike_build_sk_msg(&w, &h, &ch, 0, 4, 0, &lay), 0);
	assert_int_equal(lay.ct_len % 4, 0);
	assert_int_equal(ike_msg_parse(dgram, wr_len(&w), &msg, &res), 0);
	assert_int_equal(ike_msg_parse_inner(&msg, ibuf, wr_len(&iw), &res), 0);
	assert_int_equal(msg.idr.type, IKE_ID_FQDN);
	assert_memory_equal(msg.idr.data.p, "vpn.example", 11);
	assert_int_equal(msg.idi.type, IKE_ID_KEY_ID);
	assert_int_equal(msg.tsi.n, 2);
	assert_memory_equal(&msg.tsi.ts[0], &ts[0], offsetof(struct ike_ts_entry, raw));
	assert_memory_equal(&msg.tsi.ts[1], &ts[1], offsetof(struct ike_ts_entry, raw));
	assert_memory_equal(&msg.tsr.ts[0], &ts[1], offsetof(struct ike_ts_entry, raw));
	/* A response with IDi fits no row; it is a response: no answer. */
	assert_int_equal(ike_msg_check_rules(&msg, &res), -EBADMSG);
	assert_true(res.code == IKE_PERR_INVALID_SYNTAX && res.notify == 0);
}

/* Two ESP SPIs: the Delete payload, SK framing and the SPI accessor. */
static void test_build_delete(void **state)
{
	static const uint8_t spis[8] = { 0xc0, 0, 0, 1, 0xc0, 0, 0, 2 };
	struct ike_hdr h = { .spi_i = 1, .spi_r = 2, .version = IKE_VERSION,
			     .exchange = IKE_EXCH_INFORMATIONAL, .msgid = 5 };
	struct buf_writer w, iw;
	struct ike_chain ch;
	struct ike_sk_layout lay;
	struct ike_result res;

	chain_on(&w, &ch, out, sizeof(out));
	ike_put_delete(&ch, IKE_PROTO_ESP, 4, 2, sp(spis, 8));
	wr_init(&iw, dgram, sizeof(dgram));
	assert_int_equal(ike_build_sk_msg(&iw, &h, &ch, 8, 1, 16, &lay), 0);
	assert_int_equal(lay.ct_len, 16 + 1);
	assert_int_equal(ike_msg_parse(dgram, wr_len(&iw), &msg, &res), 0);
	assert_int_equal(ike_msg_parse_inner(&msg, out, wr_len(&w), &res), 0);
	assert_int_equal(ike_msg_check_rules(&msg, &res), 0);
	assert_int_equal(res.form, IKE_FORM_INFO);
	assert_int_equal(ike_delete_spi(&msg.del[0], 0), 0xc0000001);
	assert_int_equal(ike_delete_spi(&msg.del[0], 1), 0xc0000002);
	assert_int_equal(ike_delete_spi(&msg.del[0], 2), 0);
	/* The plaintext is parsed once; a message without SK has none. */
	assert_int_equal(ike_msg_parse_inner(&msg, out, wr_len(&w), &res), -EBADMSG);
	assert_int_equal(res.code, IKE_PERR_DROP);
}

/*
 * Messages built from payload specs, for malformed cases and the exchange
 * table. A spec is a payload type, its flags, its body in hex and an
 * adjustment to its length field; the chain's next fields are filled in.
 */
struct pl_spec {
	uint8_t type;
	uint8_t flags;
	const char *body;
	int len_adj;
};

enum special { NORMAL, EMPTY, ZERO_SPI, SPIR_SET, MSGID_1, TRAILING, TINY_1000, VID_17 };

struct msg_case {
	const char *name;
	uint8_t exchange, flags;
	struct pl_spec clear[5];
	bool sk;			/* SK (dummy ciphertext) ends the clear chain */
	struct pl_spec inner[12];
	int len_adj;			/* added to the header length field */
	size_t cut;			/* datagram cut to this length, 0 = not */
	uint8_t version;		/* 0 = 2.0 */
	enum special special;
	enum ike_perr code;		/* first stage that fails, NONE = none */
	uint16_t notify;
	enum ike_form form;
	const char *reason;		/* substring of the reason */
};

#define PL(t, body) { IKE_PL_##t, 0, body, 0 }
#define REQ(x) IKE_EXCH_##x, IKE_FLAG_I
#define RESP(x) IKE_EXCH_##x, IKE_FLAG_I | IKE_FLAG_R
#define OK_FORM(f) IKE_PERR_NONE, 0, IKE_FORM_##f, NULL
#define BAD(code, notify, why) IKE_PERR_##code, notify, IKE_FORM_UNKNOWN, why
#define SYNTAX_DROP(why) BAD(INVALID_SYNTAX, 0, why)
#define SYNTAX_ANSWER(why) BAD(INVALID_SYNTAX, IKE_N_INVALID_SYNTAX, why)

/* Transforms: ENCR aes256, INTEG sha256, PRF sha256, DH modp2048. */
#define XF_ENCR "0300000c0100000c800e0100"
#define XF_INTEG "030000080300000c"
#define XF_PRF "0300000802000005"
#define XF_DH_LAST "000000080400000e"
#define XF_4 XF_ENCR XF_INTEG XF_PRF XF_DH_LAST
#define PROP_IKE(last, num) last "00002c" num "010004" XF_4
#define SA_IKE PROP_IKE("00", "01")
#define SA_IKE_SPI "0000003401010804" "0102030405060708" XF_4
#define SA_ESP "0000002001030402" "c8ba0e82" "0300000c01000014800e0080" \
	"0000000805000000"
#define KE "000e0000" "1111111111111111"
#define NONCE "00112233445566778899aabbccddeeff"
#define ID "01000000" "0a4d0001"
#define AUTH "02000000" "0011223344556677"
#define TS "01000000" "070000100000ffff0a4d01000a4d01ff"
#define N_ERR(t) "0000" t
#define INIT_REQ PL(SA, SA_IKE), PL(KE, KE), PL(NONCE, NONCE)
#define AUTH_REQ PL(IDI, ID), PL(AUTH, AUTH), PL(SA, SA_ESP), PL(TSI, TS), PL(TSR, TS)

static const struct msg_case msg_cases[] = {
	/* Good messages of every form. */
	{ "IKE_SA_INIT request", REQ(IKE_SA_INIT), { INIT_REQ }, .code = OK_FORM(SA_INIT) },
	{ "COOKIE answer", RESP(IKE_SA_INIT), { PL(NOTIFY, N_ERR("4006") "c00c1e") },
	  .code = OK_FORM(SA_INIT_ERROR) },
	{ "IKE_AUTH with child", REQ(IKE_AUTH), .sk = true, .inner = { AUTH_REQ },
	  .code = OK_FORM(AUTH_CHILD) },
	{ "IKE_AUTH childless", REQ(IKE_AUTH), .sk = true,
	  .inner = { PL(IDI, ID), PL(AUTH, AUTH) }, .code = OK_FORM(AUTH_NO_CHILD) },
	{ "IKE_AUTH AUTHENTICATION_FAILED", RESP(IKE_AUTH), .sk = true,
	  .inner = { PL(NOTIFY, N_ERR("0018")) }, .code = OK_FORM(AUTH_ERROR) },
	{ "CREATE_CHILD_SA child", REQ(CREATE_CHILD_SA), .sk = true,
	  .inner = { PL(SA, SA_ESP), PL(NONCE, NONCE), PL(TSI, TS), PL(TSR, TS) },
	  .code = OK_FORM(CHILD) },
	{ "CREATE_CHILD_SA rekey child", REQ(CREATE_CHILD_SA), .sk = true,
	  .inner = { PL(NOTIFY, "03044009" "c8ba0e82"), PL(SA, SA_ESP), PL(NONCE, NONCE),
		     PL(KE, KE), PL(TSI, TS), PL(TSR, TS) }, .code = OK_FORM(CHILD) },
	{ "CREATE_CHILD_SA rekey IKE", RESP(CREATE_CHILD_SA), .sk = true,
	  .inner = { PL(SA, SA_IKE_SPI), PL(NONCE, NONCE), PL(KE, KE) },
	  .code = OK_FORM(REKEY_IKE) },
	{ "INFORMATIONAL delete ESP", REQ(INFORMATIONAL), .sk = true,
	  .inner = { PL(DELETE, "03040002" "c0000001c0000002") }, .code = OK_FORM(INFO) },
	{ "INFORMATIONAL INVALID_IKE_SPI in clear", RESP(INFORMATIONAL),
	  { PL(NOTIFY, N_ERR("0004")) }, .code = OK_FORM(INFO_CLEAR) },
	{ "unknown non-critical payload skipped", REQ(IKE_SA_INIT),
	  { INIT_REQ, { 200, 0, "abcd", 0 } }, .code = OK_FORM(SA_INIT) },
	{ "unknown SA attribute kept", REQ(IKE_SA_INIT),
	  { PL(SA, "0000003001010004" "03000010" "0100000c800e0100" "80070001" XF_INTEG
		   XF_PRF XF_DH_LAST), PL(KE, KE), PL(NONCE, NONCE) },
	  .code = OK_FORM(SA_INIT) },

	/* Header. */
	{ "empty datagram", REQ(IKE_SA_INIT), .special = EMPTY,
	  .code = BAD(DROP, 0, "shorter than the IKE header") },
	{ "truncated header", REQ(IKE_SA_INIT), { INIT_REQ }, .cut = 27,
	  .code = BAD(DROP, 0, "27 bytes") },
	{ "length longer than datagram", REQ(IKE_SA_INIT), { INIT_REQ }, .len_adj = 1,
	  .code = SYNTAX_DROP("header length") },
	{ "length shorter than datagram", REQ(IKE_SA_INIT), { INIT_REQ }, .len_adj = -1,
	  .code = SYNTAX_DROP("header length") },
	{ "major version 3 request", REQ(IKE_SA_INIT), { INIT_REQ }, .version = 0x30,
	  .code = BAD(INVALID_MAJOR_VERSION, IKE_N_INVALID_MAJOR_VERSION, "version 3") },
	{ "major version 3 response", RESP(IKE_SA_INIT), { INIT_REQ }, .version = 0x30,
	  .code = BAD(INVALID_MAJOR_VERSION, 0, "version 3") },
	{ "IKEv1", REQ(IKE_SA_INIT), { INIT_REQ }, .version = 0x10, .code = BAD(DROP, 0, "IKEv1") },
	{ "minor version 1 accepted", REQ(IKE_SA_INIT), { INIT_REQ }, .version = 0x21,
	  .code = OK_FORM(SA_INIT) },
	{ "zero initiator SPI", REQ(IKE_SA_INIT), { INIT_REQ }, .special = ZERO_SPI,
	  .code = SYNTAX_DROP("SPI is zero") },

	/* Generic payload chain. */
	{ "payload length < 4", REQ(IKE_SA_INIT), { PL(SA, SA_IKE), { IKE_PL_KE, 0, KE, -13 },
	  PL(NONCE, NONCE) }, .code = SYNTAX_DROP("length 3") },
	{ "payload overruns message", REQ(IKE_SA_INIT), { INIT_REQ, { IKE_PL_VID, 0, "ab", 1 } },
	  .code = SYNTAX_DROP("V (43): length 6, 5 bytes left") },
	{ "truncated generic header", REQ(IKE_SA_INIT), { INIT_REQ }, .cut = 28 + 48 + 16 + 2,
	  .len_adj = -18, .code = SYNTAX_DROP("truncated generic header") },
	{ "bytes after the last payload", REQ(IKE_SA_INIT), { INIT_REQ }, .special = TRAILING,
	  .code = SYNTAX_DROP("3 bytes after the last payload") },
	{ "1000 tiny payloads", REQ(IKE_SA_INIT), .special = TINY_1000,
	  .code = SYNTAX_DROP("more than 64 payloads") },
	{ "two SA payloads", REQ(IKE_SA_INIT), { INIT_REQ, PL(SA, SA_IKE) },
	  .code = SYNTAX_DROP("SA payload number 2") },
	{ "17 vendor IDs", REQ(IKE_SA_INIT), .special = VID_17,
	  .code = SYNTAX_DROP("V payload number 17") },
	{ "unknown critical payload in request", REQ(IKE_SA_INIT),
	  { INIT_REQ, { 200, IKE_PL_CRITICAL, "abcd", 0 } },
	  .code = BAD(UNSUPPORTED_CRITICAL, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "type 200") },
	{ "unknown critical payload in response", RESP(IKE_SA_INIT),
	  { INIT_REQ, { 200, IKE_PL_CRITICAL, "abcd", 0 } },
	  .code = BAD(UNSUPPORTED_CRITICAL, 0, "type 200") },
	{ "empty SK payload", REQ(INFORMATIONAL), { PL(SK, "") },
	  .code = SYNTAX_DROP("empty SK payload") },
	{ "SK not last", REQ(IKE_AUTH), { PL(SK, "00112233"), PL(VID, "ab") },
	  .code = SYNTAX_DROP("after the SK payload") },

	/* SA payload. */
	{ "SA without proposals", REQ(IKE_SA_INIT), { PL(SA, ""), PL(KE, KE), PL(NONCE, NONCE) },
	  .code = SYNTAX_DROP("without proposals") },
	{ "proposal overruns SA", REQ(IKE_SA_INIT), { PL(SA, "0000002d010100" "04" XF_4) },
	  .code = SYNTAX_DROP("proposal 1: bad length") },
	{ "proposal length 7", REQ(IKE_SA_INIT), { PL(SA, "0000000701010000") },
	  .code = SYNTAX_DROP("proposal 1: bad length") },
	{ "proposal count mismatch", REQ(IKE_SA_INIT), { PL(SA, "0000002c01010005" XF_4) },
	  .code = SYNTAX_DROP("4 transforms, header says 5") },
	{ "no transforms", REQ(IKE_SA_INIT), { PL(SA, "0000000801010000") },
	  .code = SYNTAX_DROP("no transforms") },
	{ "last transform marked more", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" XF_ENCR XF_INTEG XF_PRF "030000080400000e") },
	  .code = SYNTAX_DROP("last marked 'more'") },
	{ "transform after the last", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" "0000000c0100000c800e0100" XF_INTEG XF_PRF XF_DH_LAST) },
	  .code = SYNTAX_DROP("transform after the last") },
	{ "transform length 7", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" "030000070100000c800e0100" XF_INTEG XF_PRF XF_DH_LAST) },
	  .code = SYNTAX_DROP("transform 1: bad length") },
	{ "transform overruns proposal", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" XF_ENCR XF_INTEG XF_PRF "000000090400000e") },
	  .code = SYNTAX_DROP("transform 4: bad length") },
	{ "bad transform marker", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" "0200000c0100000c800e0100" XF_INTEG XF_PRF XF_DH_LAST) },
	  .code = SYNTAX_DROP("last-substructure 2") },
	{ "attribute truncated", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002a01010004" "0300000a0100000c800e" XF_INTEG XF_PRF XF_DH_LAST) },
	  .code = SYNTAX_DROP("attribute overruns") },
	{ "TLV attribute overruns", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" "0300000c0100000c00070010" XF_INTEG XF_PRF XF_DH_LAST) },
	  .code = SYNTAX_DROP("attribute overruns") },
	{ "key length as TLV", REQ(IKE_SA_INIT),
	  { PL(SA, "0000002c01010004" "0300000c0100000c000e0000" XF_INTEG XF_PRF XF_DH_LAST) },
	  .code = SYNTAX_DROP("TLV key length") },
	{ "two key lengths", REQ(IKE_SA_INIT),
	  { PL(SA, "0000003001010004" "030000100100000c800e0100800e0080" XF_INTEG XF_PRF
		   XF_DH_LAST) }, .code = SYNTAX_DROP("second key length") },
	{ "IKE SPI of 4 bytes", REQ(IKE_SA_INIT), { PL(SA, "0000003001010404" "01020304" XF_4) },
	  .code = SYNTAX_DROP("SPI size 4 for protocol 1") },
	{ "ESP SPI overruns proposal", REQ(IKE_SA_INIT), { PL(SA, "0000000a01030402" "0102") },
	  .code = SYNTAX_DROP("SPI size 4 for protocol 3") },
	{ "proposals numbered 1, 3", REQ(IKE_SA_INIT),
	  { PL(SA, PROP_IKE("02", "01") PROP_IKE("00", "03")) },
	  .code = SYNTAX_DROP("proposal 2 numbered 3") },
	{ "first proposal numbered 2", REQ(IKE_SA_INIT), { PL(SA, PROP_IKE("00", "02")) },
	  .code = SYNTAX_DROP("proposal 1 numbered 2") },
	{ "response echoes proposal 2", RESP(IKE_SA_INIT), { PL(SA, PROP_IKE("00", "02")),
	  PL(KE, KE), PL(NONCE, NONCE) }, .code = OK_FORM(SA_INIT) },
	{ "response with two proposals", RESP(IKE_SA_INIT),
	  { PL(SA, PROP_IKE("02", "01") PROP_IKE("00", "02")) },
	  .code = SYNTAX_DROP("response with 2 proposals") },
	{ "first proposal marked last", REQ(IKE_SA_INIT),
	  { PL(SA, PROP_IKE("00", "01") PROP_IKE("00", "02")) },
	  .code = SYNTAX_DROP("proposal after the last") },
	{ "last proposal marked more", REQ(IKE_SA_INIT), { PL(SA, PROP_IKE("02", "01")) },
	  .code = SYNTAX_DROP("last proposal marked 'more'") },
	{ "bad proposal marker", REQ(IKE_SA_INIT), { PL(SA, PROP_IKE("03", "01")) },
	  .code = SYNTAX_DROP("last-substructure 3") },

	/* Other payload bodies. */
	{ "zero-length nonce", REQ(IKE_SA_INIT), { PL(SA, SA_IKE), PL(KE, KE), PL(NONCE, "") },
	  .code = SYNTAX_DROP("nonce of 0 bytes") },
	{ "15-byte nonce", REQ(IKE_SA_INIT),
	  { PL(SA, SA_IKE), PL(KE, KE), PL(NONCE, "00112233445566778899aabbccddee") },
	  .code = SYNTAX_DROP("nonce of 15 bytes") },
	{ "KE without data", REQ(IKE_SA_INIT), { PL(SA, SA_IKE), PL(KE, "000e0000") },
	  .code = SYNTAX_DROP("no key exchange data") },
	{ "KE of 3 bytes", REQ(IKE_SA_INIT), { PL(SA, SA_IKE), PL(KE, "000e00") },
	  .code = SYNTAX_DROP("KE payload: 3-byte body") },
	{ "notify SPI overruns", REQ(IKE_SA_INIT), { INIT_REQ, PL(NOTIFY, "03044009c8ba") },
	  .code = SYNTAX_DROP("SPI size 4 overruns") },
	{ "notify header short", REQ(IKE_SA_INIT), { INIT_REQ, PL(NOTIFY, "000040") },
	  .code = SYNTAX_DROP("Notify payload: 3-byte body") },

	/* Inside SK: authenticated, so requests get INVALID_SYNTAX. */
	{ "IDi IPv4 of 5 bytes", REQ(IKE_AUTH), .sk = true,
	  .inner = { PL(IDI, "01000000" "0a4d000101"), PL(AUTH, AUTH) },
	  .code = SYNTAX_ANSWER("5 bytes for type 1") },
	{ "inner error in a response", RESP(IKE_AUTH), .sk = true,
	  .inner = { PL(IDR, "05000000" "0a4d0001") }, .code = SYNTAX_DROP("4 bytes for type 5") },
	{ "empty AUTH", REQ(IKE_AUTH), .sk = true, .inner = { PL(IDI, ID), PL(AUTH, "02000000") },
	  .code = SYNTAX_ANSWER("no authentication data") },
	{ "TS count says 2", REQ(IKE_AUTH), .sk = true,
	  .inner = { PL(IDI, ID), PL(AUTH, AUTH),
		     PL(TSI, "02000000" "070000100000ffff0a4d01000a4d01ff") },
	  .code = SYNTAX_ANSWER("traffic selector 2: truncated") },
	{ "TS selector length 17", REQ(IKE_AUTH), .sk = true,
	  .inner = { PL(TSI, "01000000" "070000110000ffff0a4d01000a4d01ff00") },
	  .code = SYNTAX_ANSWER("length 17 for type 7") },
	{ "TS with no selectors", REQ(IKE_AUTH), .sk = true, .inner = { PL(TSI, "00000000") },
	  .code = SYNTAX_ANSWER("0 selectors") },
	{ "TS trailing bytes", REQ(IKE_AUTH), .sk = true, .inner = { PL(TSI, TS "00") },
	  .code = SYNTAX_ANSWER("1 bytes after 1 selectors") },
	{ "Delete ESP with 8-byte SPIs", REQ(INFORMATIONAL), .sk = true,
	  .inner = { PL(DELETE, "03080001" "0102030405060708") },
	  .code = SYNTAX_ANSWER("Delete: protocol 3") },
	{ "Delete SPI count mismatch", REQ(INFORMATIONAL), .sk = true,
	  .inner = { PL(DELETE, "03040002" "c0000001") }, .code = SYNTAX_ANSWER("2 SPIs") },
	{ "SK inside SK", REQ(INFORMATIONAL), .sk = true, .inner = { PL(SK, "0011") },
	  .code = SYNTAX_ANSWER("SK payload inside SK") },
	{ "unknown critical inside SK", REQ(INFORMATIONAL), .sk = true,
	  .inner = { { 99, IKE_PL_CRITICAL, "", 0 } },
	  .code = BAD(UNSUPPORTED_CRITICAL, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "type 99") },
	{ "inner payload overruns plaintext", REQ(INFORMATIONAL), .sk = true,
	  .inner = { { IKE_PL_NOTIFY, 0, N_ERR("4000"), 2 } }, .code = SYNTAX_ANSWER("length 10") },

	/* The exchange table. */
	{ "IKE_SA_INIT without KE", REQ(IKE_SA_INIT), { PL(SA, SA_IKE), PL(NONCE, NONCE) },
	  .code = SYNTAX_DROP("IKE_SA_INIT request: missing KE payload") },
	{ "IKE_SA_INIT with ESP proposal", REQ(IKE_SA_INIT),
	  { PL(SA, SA_ESP), PL(KE, KE), PL(NONCE, NONCE) },
	  .code = SYNTAX_DROP("not all for IKE") },
	{ "IKE_SA_INIT with SK", REQ(IKE_SA_INIT), { INIT_REQ }, .sk = true,
	  .code = SYNTAX_DROP("unexpected SK payload") },
	{ "IKE_AUTH in clear", REQ(IKE_AUTH), { AUTH_REQ },
	  .code = SYNTAX_DROP("IKE_AUTH request") },
	{ "IKE_AUTH without AUTH", REQ(IKE_AUTH), .sk = true,
	  .inner = { PL(IDI, ID), PL(SA, SA_ESP), PL(TSI, TS), PL(TSR, TS) },
	  .code = SYNTAX_ANSWER("missing AUTH payload in SK") },
	{ "IKE_AUTH with SA but no TS", REQ(IKE_AUTH), .sk = true,
	  .inner = { PL(IDI, ID), PL(AUTH, AUTH), PL(SA, SA_ESP) },
	  .code = SYNTAX_ANSWER("in SK") },
	{ "CREATE_CHILD_SA IKE proposal with TS", REQ(CREATE_CHILD_SA), .sk = true,
	  .inner = { PL(SA, SA_IKE_SPI), PL(NONCE, NONCE), PL(KE, KE), PL(TSI, TS), PL(TSR, TS) },
	  .code = SYNTAX_ANSWER("not all for ESP/AH") },
	{ "CREATE_CHILD_SA rekey IKE without KE", REQ(CREATE_CHILD_SA), .sk = true,
	  .inner = { PL(SA, SA_IKE_SPI), PL(NONCE, NONCE) }, .code = SYNTAX_ANSWER("in SK") },
	{ "INFORMATIONAL with a nonce", REQ(INFORMATIONAL), .sk = true,
	  .inner = { PL(NONCE, NONCE) }, .code = SYNTAX_ANSWER("unexpected No payload in SK") },
	{ "unknown exchange type", 43, IKE_FLAG_I, .sk = true,
	  .code = SYNTAX_DROP("exchange type 43 request: not supported") },
	{ "IKE_SA_INIT message ID 0 only", REQ(IKE_SA_INIT), { INIT_REQ }, .special = MSGID_1,
	  .code = SYNTAX_DROP("message ID 1, want 0") },
	{ "IKE_SA_INIT request with responder SPI", REQ(IKE_SA_INIT), { INIT_REQ },
	  .special = SPIR_SET, .code = SYNTAX_DROP("responder SPI not zero") },
	{ "IKE_SA_INIT response without responder SPI", RESP(IKE_SA_INIT), { INIT_REQ },
	  .special = SPIR_SET, .code = SYNTAX_DROP("responder SPI is zero") },
};

static void put_specs(struct buf_writer *w, const struct pl_spec *pl, size_t max,
		      uint8_t tail)
{
	static uint8_t body[1024];

	for (size_t i = 0; i < max && pl[i].type; i++) {
		uint8_t next = i + 1 < max && pl[i + 1].type ? pl[i + 1].type : tail;
		size_t n = unhex(pl[i].body, body, sizeof(body));

		wr_u8(w, next);
		wr_u8(w, pl[i].flags);
		wr_be16(w, (uint16_t)((int)n + 4 + pl[i].len_adj));
		wr_bytes(w, body, n);
	}
}

static void put_special(struct buf_writer *w, enum special sp)
{
	int n = sp == TINY_1000 ? 1000 : sp == VID_17 ? 17 : 0;

	for (int i = 0; i < n; i++) {
		wr_u8(w, i + 1 < n ? (sp == TINY_1000 ? 200 : IKE_PL_VID) : 0);
		wr_u8(w, 0);
		wr_be16(w, sp == TINY_1000 ? 4 : 5);
		if (sp == VID_17)
			wr_u8(w, 0xab);
	}
	if (sp == TRAILING)
		wr_bytes(w, "\x01\x02\x03", 3);
}

static uint8_t case_first(const struct msg_case *c)
{
	if (c->special == TINY_1000)
		return 200;
	if (c->special == VID_17)
		return IKE_PL_VID;
	return c->clear[0].type ? c->clear[0].type : c->sk ? IKE_PL_SK : 0;
}

static void put_case_header(struct buf_writer *w, const struct msg_case *c,
			    struct wr_mark *len)
{
	bool init = c->exchange == IKE_EXCH_IKE_SA_INIT;
	bool resp = c->flags & IKE_FLAG_R;
	bool spi_r = init ? resp : true;

	if (c->special == SPIR_SET)
		spi_r = !spi_r;
	wr_be64(w, c->special == ZERO_SPI ? 0 : 0x0102030405060708ull);
	wr_be64(w, spi_r ? 0x1112131415161718ull : 0);
	wr_u8(w, case_first(c));
	wr_u8(w, c->version ? c->version : IKE_VERSION);
	wr_u8(w, c->exchange);
	wr_u8(w, c->flags);
	wr_be32(w, c->special == MSGID_1 ? 1 : init ? 0 : 7);
	wr_reserve32(w, 0, len);
}

/* Build the case's datagram into dgram and its SK plaintext into plain. */
static size_t build_case(const struct msg_case *c, size_t *plen)
{
	static const uint8_t ct[32];
	struct buf_writer w, iw;
	struct wr_mark len;
	uint32_t l;

	wr_init(&iw, plain, sizeof(plain));
	put_specs(&iw, c->inner, N(c->inner), 0);
	*plen = wr_len(&iw);
	wr_init(&w, dgram, sizeof(dgram));
	put_case_header(&w, c, &len);
	put_specs(&w, c->clear, N(c->clear), c->sk ? IKE_PL_SK : 0);
	if (c->sk) {
		wr_u8(&w, c->inner[0].type);
		wr_u8(&w, 0);
		wr_be16(&w, 4 + sizeof(ct));
		wr_bytes(&w, ct, sizeof(ct));
	}
	put_special(&w, c->special);
	wr_patch_length(&w, &len);
	assert_false(wr_failed(&w));
	assert_false(wr_failed(&iw));
	l = (uint32_t)((int)wr_len(&w) + c->len_adj);
	dgram[24] = (uint8_t)(l >> 24);
	dgram[25] = (uint8_t)(l >> 16);
	dgram[26] = (uint8_t)(l >> 8);
	dgram[27] = (uint8_t)l;
	if (c->special == EMPTY)
		return 0;
	return c->cut ? c->cut : wr_len(&w);
}

/* The stages as the daemon runs them; returns the first failure's code. */
static int run_stages(const uint8_t *d, size_t len, const uint8_t *pt, size_t plen,
		      bool sk, struct ike_result *res)
{
	if (ike_msg_parse(d, len, &msg, res) < 0 || ike_msg_check_rules(&msg, res) < 0)
		return -EBADMSG;
	if (!sk)
		return 0;
	if (ike_msg_parse_inner(&msg, pt, plen, res) < 0)
		return -EBADMSG;
	return ike_msg_check_rules(&msg, res);
}

static void check_round_trip(size_t len, size_t plen)
{
	struct buf_writer w;

	wr_init(&w, out, sizeof(out));
	assert_int_equal(ike_build_from_msg(&w, &msg), 0);
	assert_int_equal(wr_len(&w), len);
	assert_memory_equal(out, dgram, len);
	wr_init(&w, out, sizeof(out));
	assert_int_equal(ike_build_inner_from_msg(&w, &msg), 0);
	assert_int_equal(wr_len(&w), plen);
	assert_memory_equal(out, plain, plen);
}

static void test_msg_cases(void **state)
{
	for (size_t i = 0; i < N(msg_cases); i++) {
		const struct msg_case *c = &msg_cases[i];
		struct ike_result res;
		size_t len, plen;
		int rc;

		len = build_case(c, &plen);
		rc = run_stages(dgram, len, plain, plen, c->sk, &res);
		print_message("case %zu: %s: %s (%s)\n", i, c->name,
			      ike_perr_name(res.code), res.reason);
		assert_int_equal(rc, c->code == IKE_PERR_NONE ? 0 : -EBADMSG);
		assert_int_equal(res.code, c->code);
		assert_int_equal(res.notify, c->notify);
		if (c->reason && !strstr(res.reason, c->reason))
			fail_msg("reason '%s' lacks '%s'", res.reason, c->reason);
		if (c->code == IKE_PERR_UNSUPPORTED_CRITICAL && c->notify) {
			assert_int_equal(res.notify_data_len, 1);
			assert_true(res.notify_data[0] == 200 || res.notify_data[0] == 99);
		}
		if (c->code != IKE_PERR_NONE)
			continue;
		assert_int_equal(res.form, c->form);
		check_round_trip(len, plen);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_round_trip),
		cmocka_unit_test(test_sa_init_fields),
		cmocka_unit_test(test_inner_fields),
		cmocka_unit_test(test_build_sa_init),
		cmocka_unit_test(test_build_ike_auth),
		cmocka_unit_test(test_build_child_and_rekey),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_delete),
		cmocka_unit_test(test_build_parse_v6),
		cmocka_unit_test(test_msg_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
