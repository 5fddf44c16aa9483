/*
 * cgwctl doctor: check the host for what cgw's tunnels need (kernel
 * modules and crypto, sysctls, VTIs, routes to the peers, firewall, MTU
 * and MSS, clock, config and PSK permissions, cgwd and its tunnels) and
 * print each finding as OK, WARN or FAIL with its fix.
 */
#ifndef CGW_CGWCTL_DOCTOR_H
#define CGW_CGWCTL_DOCTOR_H

/*
 * `cgwctl doctor [--config FILE]`: argv[0] is "doctor"; socket_path is
 * cgwctl's -s (when it is the default, the config's control-socket is
 * asked instead). Exit status 0 when nothing blocks the tunnels (WARNs
 * allowed), 1 when a check FAILed, 2 on a usage error.
 */
int doctor_main(int argc, char **argv, const char *socket_path);

#endif
