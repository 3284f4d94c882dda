/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The flow hash: Bob Jenkins' lookup3 hashword() over the ten 32-bit words of a struct
 * dt_flow_key, which is what the kernel's jhash2() computes (initial value 0xdeadbeef + length in
 * octets + seed, three mix rounds of 3 words, the tenth word into the final mix).
 *
 * It must give the same value in the XDP program and in the DPDK engine and control plane, since
 * every edge router and the control plane's precomputed slot table have to agree on it. So: only
 * 32-bit adds, xors and rotates; the words are read in host order from a 4-byte-aligned struct
 * (every __be32/__be16 field sits at its natural offset), the same order on the host and in BPF
 * on the same machine (bpfel). The key's padding is hashed too, which is why the parser zeroes it.
 */
#ifndef DT_FLOW_HASH_H
#define DT_FLOW_HASH_H

#include "dt_compiler.h"
#include "detour_abi.h"

#define DT_FLOW_KEY_WORDS (sizeof(struct dt_flow_key) / sizeof(__u32))
#define DT_JHASH_INITVAL 0xdeadbeefu

_Static_assert(sizeof(struct dt_flow_key) % sizeof(__u32) == 0, "key is whole words");
_Static_assert(DT_FLOW_KEY_WORDS == 10, "the mix schedule below assumes 10 words");

DT_INLINE __u32 dt_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

/* lookup3 mix(): reversible, so no input difference is lost between rounds. */
#define DT_JHASH_MIX(a, b, c)         \
	do {                          \
		a -= c;               \
		a ^= dt_rol32(c, 4);  \
		c += b;               \
		b -= a;               \
		b ^= dt_rol32(a, 6);  \
		a += c;               \
		c -= b;               \
		c ^= dt_rol32(b, 8);  \
		b += a;               \
		a -= c;               \
		a ^= dt_rol32(c, 16); \
		c += b;               \
		b -= a;               \
		b ^= dt_rol32(a, 19); \
		a += c;               \
		c -= b;               \
		c ^= dt_rol32(b, 4);  \
		b += a;               \
	} while (0)

/* lookup3 final(): every input bit reaches every bit of c. */
#define DT_JHASH_FINAL(a, b, c)       \
	do {                          \
		c ^= b;               \
		c -= dt_rol32(b, 14); \
		a ^= c;               \
		a -= dt_rol32(c, 11); \
		b ^= a;               \
		b -= dt_rol32(a, 25); \
		c ^= b;               \
		c -= dt_rol32(b, 16); \
		a ^= c;               \
		a -= dt_rol32(c, 4);  \
		b ^= a;               \
		b -= dt_rol32(a, 14); \
		c ^= b;               \
		c -= dt_rol32(b, 24); \
	} while (0)

DT_INLINE __u32 dt_flow_hash(const struct dt_flow_key *key, __u32 seed)
{
	__u32 k[DT_FLOW_KEY_WORDS];
	__u32 a, b, c;
	int i;

	/* A copy rather than a cast: reading the struct through a __u32 pointer breaks aliasing. */
	dt_memcpy(k, key, sizeof(k));
	a = b = c = DT_JHASH_INITVAL + sizeof(k) + seed;

	DT_UNROLL
	for (i = 0; i < 9; i += 3) {
		a += k[i];
		b += k[i + 1];
		c += k[i + 2];
		DT_JHASH_MIX(a, b, c);
	}
	a += k[9];
	DT_JHASH_FINAL(a, b, c);
	return c;
}

/*
 * The key's five 64-bit words XORed and multiplied (Fibonacci hashing): a cheap index into a
 * direct-mapped array (dt_udp_seen), the same in every engine; not the seeded flow hash, which
 * chooses targets. Take the top bits.
 */
DT_INLINE __u32 dt_flow_key_fold(const struct dt_flow_key *key)
{
	__u64 w[sizeof(*key) / sizeof(__u64)], x;

	dt_memcpy(w, key, sizeof(w)); /* the key may be only 4-aligned */
	x = w[0] ^ w[1] ^ w[2] ^ w[3] ^ w[4];
	return ((__u32)x ^ (__u32)(x >> 32)) * 0x9e3779b1u;
}

/* The dt_udp_seen slot of a key. */
DT_INLINE __u32 dt_seen_index(const struct dt_flow_key *key)
{
	_Static_assert(DT_SEEN_SLOTS == 1u << 16, "16 bits of the fold");
	return dt_flow_key_fold(key) >> 16;
}

#endif /* DT_FLOW_HASH_H */
