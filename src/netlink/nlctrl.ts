/**
 * The Generic Netlink controller ("nlctrl"): family and multicast-group
 * resolution. Pure codecs; the request goes through a {@link NetlinkClient}.
 *
 * @module
 */

import { AttributeEncoder } from "./attribute.ts";
import { AttributeDecoder } from "./attribute_decoder.ts";
import { encodeGenericMessage, type GenericMessage } from "./genetlink.ts";
import { NLM_F_ACK, NLM_F_REQUEST } from "./message.ts";

/** #define GENL_ID_CTRL NLMSG_MIN_TYPE (0x10) */
export const GENL_ID_CTRL = 0x10;
/** Version of the controller's own protocol. */
export const CTRL_VERSION = 1;

/** enum { CTRL_CMD_UNSPEC, CTRL_CMD_NEWFAMILY, ..., CTRL_CMD_GETFAMILY = 3 } */
export const CTRL_CMD_NEWFAMILY = 1;
/** Ask for one family by name. */
export const CTRL_CMD_GETFAMILY = 3;

/** enum { CTRL_ATTR_UNSPEC, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, ... } */
export const CTRL_ATTR_FAMILY_ID = 1;
/** Family name, a string. */
export const CTRL_ATTR_FAMILY_NAME = 2;
/** Family version, a u32. */
export const CTRL_ATTR_VERSION = 3;
/** Multicast groups: nested, one nested entry per group. */
export const CTRL_ATTR_MCAST_GROUPS = 7;
/** Inside a group: its name. */
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
/** Inside a group: its id, a u32. */
export const CTRL_ATTR_MCAST_GRP_ID = 2;

/** What nlctrl says of a family. */
export interface FamilyInfo {
  id: number;
  name: string;
  version: number;
  /** Multicast group ids by name. */
  groups: Map<string, number>;
}

/** CTRL_CMD_GETFAMILY for `name`, asking for an ACK too. */
export function encodeGetFamilyRequest(name: string, sequence: number): Uint8Array {
  const attributes = new AttributeEncoder();
  attributes.string(CTRL_ATTR_FAMILY_NAME, name);
  return encodeGenericMessage(
    { familyId: GENL_ID_CTRL, flags: NLM_F_REQUEST | NLM_F_ACK, sequence },
    { command: CTRL_CMD_GETFAMILY, version: CTRL_VERSION },
    attributes.encode(),
  );
}

/** Decodes a CTRL_CMD_NEWFAMILY reply. Throws on malformed attributes. */
export function decodeFamilyReply(message: GenericMessage): FamilyInfo {
  const info: FamilyInfo = { id: 0, name: "", version: 0, groups: new Map() };
  const ad = new AttributeDecoder(message.data);
  while (ad.next()) {
    switch (ad.type) {
      case CTRL_ATTR_FAMILY_ID:
        info.id = ad.uint16();
        break;
      case CTRL_ATTR_FAMILY_NAME:
        info.name = ad.string();
        break;
      case CTRL_ATTR_VERSION:
        info.version = ad.uint32();
        break;
      case CTRL_ATTR_MCAST_GROUPS:
        ad.nested((groups) => {
          while (groups.next()) {
            let name = "";
            let id = 0;
            groups.nested((group) => {
              while (group.next()) {
                if (group.type === CTRL_ATTR_MCAST_GRP_NAME) name = group.string();
                else if (group.type === CTRL_ATTR_MCAST_GRP_ID) id = group.uint32();
              }
            });
            if (name !== "") info.groups.set(name, id);
          }
        });
        break;
    }
  }
  if (ad.error !== null) throw ad.error;
  if (info.id === 0) ad.fail("nlctrl reply lacks CTRL_ATTR_FAMILY_ID");
  if (ad.error !== null) throw ad.error;
  return info;
}
