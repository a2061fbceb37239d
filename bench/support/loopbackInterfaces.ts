/**
 * Import first in a benchmark child that runs werift: this process then sees only the loopback
 * interface. werift gathers one host candidate per address of the machine (plus
 * iceAdditionalHostAddresses), binding each in parallel to the same iceInterfaceAddresses with
 * the same icePortRange, probed from its start: two probes can pick the same port, one bind then
 * fails and that candidate never completes (seen here as a subscriber or leg that never connects,
 * with the loopback candidate missing from its SDP). With only `lo` visible, werift gathers the
 * one loopback address (iceAdditionalHostAddresses: 127.0.0.1) and all traffic stays on loopback.
 */
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';

const all = os.networkInterfaces.bind(os);
os.networkInterfaces = () => Object.fromEntries(Object.entries(all()).filter(([, infos]) => infos?.every((i) => i.internal)));
// werift's ESM build imports `* as os from "node:os"`: publish the patch to named exports too.
syncBuiltinESMExports();
