/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing classic pcap files (the format net_pcap, testpmd and OVS read) without libpcap. */
#include <errno.h>
#include <stdio.h>

#include "bench.h"

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_header {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t incl_len;
	uint32_t orig_len;
};

int
bench_pcap_write(const char *path, uint8_t *const *frames, const uint16_t *lens, uint32_t n)
{
	const struct pcap_file_header fh = {0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 /* Ethernet */};
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (f == NULL)
		return -errno;
	if (fwrite(&fh, sizeof(fh), 1, f) != 1)
		rc = -EIO;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		/* One microsecond apart: replay order is file order, timing is not used. */
		struct pcap_record_header rh = {i / 1000000, i % 1000000, lens[i], lens[i]};

		if (fwrite(&rh, sizeof(rh), 1, f) != 1 || fwrite(frames[i], lens[i], 1, f) != 1)
			rc = -EIO;
	}
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}
