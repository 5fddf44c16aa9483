/*
 * Small hashes the state machine needs, kept with the other crypto so
 * OpenSSL is used in ike/crypto* only: NAT detection (RFC 7296 2.23,
 * SHA-1 over SPIi | SPIr | IP | port) and stateless cookies (2.6).
 */
#include "ike/ike-internal.h"

#include <openssl/evp.h>
#include <string.h>

void ike_natd_hash(uint64_t spi_i, uint64_t spi_r, const struct sockaddr_in *a,
		   uint8_t out[20])
{
	uint8_t in[8 + 8 + 4 + 2];
	unsigned int len = 20;

	for (int i = 0; i < 8; i++) {
		in[i] = (uint8_t)(spi_i >> (56 - 8 * i));
		in[8 + i] = (uint8_t)(spi_r >> (56 - 8 * i));
	}
	memcpy(in + 16, &a->sin_addr.s_addr, 4);
	memcpy(in + 20, &a->sin_port, 2);
	if (EVP_Digest(in, sizeof(in), out, &len, EVP_sha1(), NULL) != 1)
		memset(out, 0, 20);
}

/* Cookie = version | SHA-256(Ni | IPi | SPIi | secret), 2.6. */
size_t ike_cookie_compute(const uint8_t secret[32], uint8_t version,
			  const uint8_t *ni, size_t ni_len, const struct sockaddr_in *ipi,
			  uint64_t spi_i, uint8_t out[IKE_COOKIE_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t spi[8];
	unsigned int len = 32;
	int ok;

	for (int i = 0; i < 8; i++)
		spi[i] = (uint8_t)(spi_i >> (56 - 8 * i));
	out[0] = version;
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, ni, ni_len) == 1 &&
	     EVP_DigestUpdate(ctx, &ipi->sin_addr.s_addr, 4) == 1 &&
	     EVP_DigestUpdate(ctx, spi, sizeof(spi)) == 1 &&
	     EVP_DigestUpdate(ctx, secret, 32) == 1 &&
	     EVP_DigestFinal_ex(ctx, out + 1, &len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		memset(out, 0, IKE_COOKIE_LEN);
	return IKE_COOKIE_LEN;
}
