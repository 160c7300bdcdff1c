/**
 * Family look-up through nlctrl, on a {@link NetlinkClient}.
 *
 * @module
 */

import { type NetlinkClient, NetlinkError } from "./client.ts";
import { decodeGenericMessage } from "./genetlink.ts";
import {
  CTRL_CMD_NEWFAMILY,
  decodeFamilyReply,
  encodeGetFamilyRequest,
  type FamilyInfo,
} from "./nlctrl.ts";

/**
 * What nlctrl answers for a family it does not know. Kernel errno values
 * are ABI (asm-generic/errno-base.h), so the codec names the one it reads
 * here instead of importing libc's table from ffi/.
 */
const ENOENT = 2;

/**
 * Asks nlctrl for the family called `name`. Resolves null when the kernel
 * has no such family (ENOENT: its module is not loaded in this kernel).
 */
export async function resolveFamily(
  client: NetlinkClient,
  name: string,
): Promise<FamilyInfo | null> {
  let replies;
  try {
    replies = await client.request(
      `Generic Netlink family look-up of '${name}'`,
      (sequence) => encodeGetFamilyRequest(name, sequence),
    );
  } catch (error) {
    if (error instanceof NetlinkError && error.errno === ENOENT) return null;
    throw error;
  }
  for (const reply of replies) {
    const message = decodeGenericMessage(reply);
    if (message.generic.command === CTRL_CMD_NEWFAMILY) return decodeFamilyReply(message);
  }
  throw new Error(`Generic Netlink family look-up of '${name}' failed: nlctrl sent no family`);
}
