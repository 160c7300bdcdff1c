/**
 * Family look-up through nlctrl, on a {@link NetlinkClient}.
 *
 * @module
 */

import { Errno } from "../../ffi/errors.ts";
import { type NetlinkClient, NetlinkError } from "./client.ts";
import { decodeGenericMessage } from "./genetlink.ts";
import {
  CTRL_CMD_NEWFAMILY,
  decodeFamilyReply,
  encodeGetFamilyRequest,
  type FamilyInfo,
} from "./nlctrl.ts";

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
    if (error instanceof NetlinkError && error.errno === Errno.ENOENT) return null;
    throw error;
  }
  for (const reply of replies) {
    const message = decodeGenericMessage(reply);
    if (message.generic.command === CTRL_CMD_NEWFAMILY) return decodeFamilyReply(message);
  }
  throw new Error(`Generic Netlink family look-up of '${name}' failed: nlctrl sent no family`);
}
