/**
 * A fake Generic Netlink controller for {@link FakeKernel}: the family
 * look-up every netlink test goes through before it reaches its subject.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Errno } from "../../ffi/errors.ts";
import { AttributeEncoder } from "../../src/netlink/attribute.ts";
import { AttributeDecoder } from "../../src/netlink/attribute_decoder.ts";
import { decodeGenericMessage, encodeGenericMessage } from "../../src/netlink/genetlink.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
} from "../../src/netlink/nlctrl.ts";
import { errorReply, type FakeKernelHandler } from "./fake_kernel.ts";

/** The one family the fake controller knows. */
export interface FakeFamily {
  id: number;
  name: string;
  version: number;
  /** Multicast group ids by name. */
  groups: Record<string, number>;
}

/**
 * A handler that answers CTRL_CMD_GETFAMILY as Linux's nlctrl does:
 * CTRL_CMD_NEWFAMILY then an ACK for `family`'s name, ENOENT for any other
 * name. Requests to other families go to `others`; without it they fail
 * the test.
 */
export function serveFamily(family: FakeFamily, others?: FakeKernelHandler): FakeKernelHandler {
  return (request) => {
    if (request.header.type !== GENL_ID_CTRL && others !== undefined) return others(request);
    assert.equal(request.header.type, GENL_ID_CTRL);
    const message = decodeGenericMessage(request);
    assert.equal(message.generic.command, CTRL_CMD_GETFAMILY);
    let name = "";
    const ad = new AttributeDecoder(message.data);
    while (ad.next()) if (ad.type === CTRL_ATTR_FAMILY_NAME) name = ad.string();
    if (name !== family.name) return [errorReply(request, Errno.ENOENT)];
    const attributes = new AttributeEncoder();
    attributes.uint16(CTRL_ATTR_FAMILY_ID, family.id);
    attributes.string(CTRL_ATTR_FAMILY_NAME, family.name);
    attributes.uint32(CTRL_ATTR_VERSION, family.version);
    // Linux nests the groups without NLA_F_NESTED (nla_nest_start_noflag).
    attributes.nested(CTRL_ATTR_MCAST_GROUPS, (groups) => {
      Object.entries(family.groups).forEach(([groupName, id], index) =>
        groups.nested(index + 1, (group) => {
          group.string(CTRL_ATTR_MCAST_GRP_NAME, groupName);
          group.uint32(CTRL_ATTR_MCAST_GRP_ID, id);
        }, false)
      );
    }, false);
    const reply = encodeGenericMessage(
      { familyId: GENL_ID_CTRL, flags: 0, sequence: request.header.sequence },
      { command: CTRL_CMD_NEWFAMILY, version: 2 },
      attributes.encode(),
    );
    return [reply, errorReply(request)];
  };
}
