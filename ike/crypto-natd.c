/*
 * NAT detection hashes (RFC 7296 2.23): SHA-1 over SPIi | SPIr | IP | port.
 * Kept with the other crypto so OpenSSL is used in ike/crypto* only.
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
