/**
 * Finding the Jool Generic Netlink family and its `joold` multicast group,
 * as the daemon's kernel link and `joold follow` both must.
 *
 * @module
 */

import type { NetlinkClient } from "../netlink/client.ts";
import { resolveFamily } from "../netlink/family.ts";
import { JOOL_FAMILY_NAME, JOOLD_MULTICAST_GROUP } from "../jool/protocol.ts";
import { JoolModuleMissingError } from "./kernel_errors.ts";

/** The ids nlctrl gave the Jool family and its `joold` group. */
export interface JoolFamilyIds {
  familyId: number;
  group: number;
}

/**
 * Asks nlctrl for the Jool family and its `joold` group.
 *
 * @throws {JoolModuleMissingError} If the family is absent.
 * @throws {Error} If the family has no `joold` group (not a NAT64 Jool).
 */
export async function resolveJoolFamily(client: NetlinkClient): Promise<JoolFamilyIds> {
  const family = await resolveFamily(client, JOOL_FAMILY_NAME);
  if (family === null) throw new JoolModuleMissingError();
  const group = family.groups.get(JOOLD_MULTICAST_GROUP);
  if (group === undefined) {
    throw new Error(
      `The Jool module registers no '${JOOLD_MULTICAST_GROUP}' multicast group: ` +
        "is it a NAT64-capable Jool?",
    );
  }
  return { familyId: family.id, group };
}
