// SPDX-License-Identifier: GPL-2.0-only
/*
 * The veth lab's trap: a veth whose peer offloads TX checksums (veth's default) hands XDP frames
 * whose TCP or UDP checksum the peer left for a NIC to finish (CHECKSUM_PARTIAL: only the
 * pseudo-header sum is in it). A frame XDP passes up is fine, the kernel knows; a frame it
 * rewrites and redirects or sends back leaves with that unfinished checksum, and the site drops
 * every rerouted packet. The fix is `ethtool -K PEER tx off` (docs/testing.md, "A lab on veth").
 *
 * The peer comes from rtnetlink (RTM_GETLINK): IFLA_LINK is its ifindex, and IFLA_LINK_NETNSID is
 * there when it lives in another network namespace. A peer here has its ETHTOOL_GTXCSUM read, and
 * a warning if it is on; a peer in another namespace cannot be read from here, and gets a note
 * with the same fix.
 */
#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>

#include "dt_log.h"
#include "dt_xdp_internal.h"

static int ethtool(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* Whether @ifname's driver is veth (ETHTOOL_GDRVINFO). */
static bool is_veth(int fd, const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };

	return !ethtool(fd, ifname, &info) && !strcmp(info.driver, "veth");
}

/*
 * The link @ifindex's IFLA_LINK (its veth peer's ifindex, in the peer's namespace) into *peer, and
 * whether that namespace is another one (IFLA_LINK_NETNSID present). 0, or -errno.
 */
static int link_peer(int ifindex, int *peer, bool *other_ns)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	const size_t cap = 65536; /* one link's attributes fit with room to spare */
	char *buf = malloc(cap);
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *rta;
	int fd, len, err = -ENOENT;

	*peer = 0;
	*other_ns = false;
	fd = buf ? socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) : -1;
	if (fd < 0) {
		free(buf);
		return -ENOMEM;
	}
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out;
	}
	len = (int)recv(fd, buf, cap, 0);
	if (len < 0) {
		err = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (unsigned int)len) || nh->nlmsg_type != RTM_NEWLINK)
		goto out;
	len = IFLA_PAYLOAD(nh);
	for (rta = IFLA_RTA((struct ifinfomsg *)NLMSG_DATA(nh)); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_LINK && RTA_PAYLOAD(rta) >= sizeof(int))
			memcpy(peer, RTA_DATA(rta), sizeof(int));
		else if (rta->rta_type == IFLA_LINK_NETNSID)
			*other_ns = true;
	}
	err = *peer > 0 ? 0 : -ENOENT;
out:
	close(fd);
	free(buf);
	return err;
}

void dt_xdp_check_veth_csum(const char *ifname, int ifindex)
{
	struct ethtool_value csum = { .cmd = ETHTOOL_GTXCSUM };
	char peer[IF_NAMESIZE] = "";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), peer_ifindex;
	bool other_ns;

	if (fd < 0)
		return;
	if (!is_veth(fd, ifname) || link_peer(ifindex, &peer_ifindex, &other_ns))
		goto out;
	if (other_ns) {
		dt_log_info(
			"interface %s is a veth whose peer is in another network namespace: if "
			"that peer offloads TX checksums (veth's default), every packet rerouted "
			"from it leaves with an unfinished checksum and is dropped at the site; "
			"run `ethtool -K PEER tx off` in the peer's namespace",
			ifname);
		goto out;
	}
	if (if_indextoname((unsigned int)peer_ifindex, peer) && !ethtool(fd, peer, &csum) &&
	    csum.data)
		dt_log_warn(
			"interface %s: its veth peer %s offloads TX checksums: every packet "
			"rerouted from it leaves with an unfinished checksum and is dropped at the "
			"site; turn it off: ethtool -K %s tx off",
			ifname, peer, peer);
out:
	close(fd);
}
