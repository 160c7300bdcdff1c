/**
 * The daemon's two peer channels (sessions on the sync port, resync on the
 * control port) as the netsocket file asks for them: on the multicast group
 * or to the unicast peers, in clear or sealed (see guarded_channel.ts).
 *
 * With `"unicast peers"` the group is not joined at all (instead of, not as
 * well as): a node that also took the group's datagrams would get each
 * session twice from a peer that multicasts and unicasts, and anyone on the
 * group could reach it past the peer list.
 *
 * @module
 */

import type { Sockets } from "../../ffi/sockets.ts";
import type { Aead } from "../auth/chacha20_poly1305.ts";
import { DatagramOpener, DatagramSealer, type KeyRing } from "../auth/sealed_datagram.ts";
import { MAX_HELLO_BYTES, SenderLiveness } from "../auth/sender_liveness.ts";
import { OpenGate } from "../auth/open_gate.ts";
import { CONTROL_MESSAGE_LENGTH } from "../sync/control_message.ts";
import { type NetsocketConfig, reliableDeliveryOn } from "../config/netsocket.ts";
import { MAX_DELIVERY_MESSAGE_BYTES } from "../sync/delivery_message.ts";
import { MulticastSocket } from "../sync/multicast_socket.ts";
import { PeerRoutes, UnicastSocket } from "../sync/unicast_socket.ts";
import type { NetworkEnvironment } from "../config/environment.ts";
import type { Clock } from "./clock.ts";
import type { DropReporter } from "./drop_report.ts";
import { addressKey, type ChannelGuards, GuardedChannel, HelloCourier } from "./guarded_channel.ts";
import type { SyncMeasures } from "./measures.ts";
import type { PeerChannel } from "./peer_channel.ts";
import type { SyncCounters } from "../stats/counters.ts";

/** One opened channel. */
export interface OpenedChannel {
  socket: MulticastSocket | UnicastSocket;
  channel: PeerChannel;
  /** For the log: `group ff08::db8:64:64 port 6464` or `2 unicast peers, port 6464`. */
  description: string;
}

/** What the channels count and report with. */
export interface PeerSocketsDeps {
  sockets: Sockets;
  counters: SyncCounters;
  measures: SyncMeasures;
  drops: DropReporter;
  clock: Clock;
  /**
   * Interfaces and their addresses: unicast peers' datagrams must arrive on
   * the interface the peer is reached over (absent: not checked).
   */
  network?: Pick<NetworkEnvironment, "interfaceIndex" | "interfaceAddresses">;
}

/** What sealed channels take: the keys, and the AEAD (loaded only when there are keys). */
export interface Sealing {
  keys: KeyRing;
  aead: Aead;
}

/** Opens the channels of one daemon; one sealer (one nonce counter) serves both. */
export class PeerSockets {
  readonly #config: NetsocketConfig;
  readonly #deps: PeerSocketsDeps;
  readonly #sealer: DatagramSealer | null;
  readonly #hellos: HelloCourier | null;
  /** `"auth cluster"` as UTF-8, empty for none: bound into every seal. */
  readonly #cluster: Uint8Array;
  readonly #openers: DatagramOpener[] = [];
  #sealing: Sealing | null;

  /** `sealing` null: in clear. `senderId`: random per start (see sealed_datagram.ts). */
  constructor(
    config: NetsocketConfig,
    sealing: Sealing | null,
    deps: PeerSocketsDeps,
    senderId: number = crypto.getRandomValues(new Uint32Array(1))[0],
  ) {
    this.#config = config;
    this.#deps = deps;
    this.#sealing = sealing;
    const clockUs = () => deps.clock.now() * 1000;
    this.#cluster = new TextEncoder().encode(config.authCluster ?? "");
    this.#sealer = sealing === null
      ? null
      : new DatagramSealer(sealing.aead, sealing.keys.current, senderId, clockUs, this.#cluster);
    this.#hellos = this.#sealer === null
      ? null
      : new HelloCourier(new SenderLiveness(senderId), this.#sealer, deps.clock);
  }

  /** The sync port's channel. Throws SyscallError. */
  openSync(): OpenedChannel {
    return this.#open(this.#config.port, "sync");
  }

  /** The control port's channel (HELLOs go on it). Throws SyscallError. */
  openControl(controlPort: number): OpenedChannel {
    return this.#open(controlPort, "control");
  }

  /** Stops sending HELLOs (on shutdown, before the sockets close). */
  close(): void {
    this.#hellos?.close();
  }

  /** Takes new keys (SIGHUP after a rotation step); false if auth is off. */
  reloadKeys(keys: KeyRing): boolean {
    if (this.#sealing === null) return false;
    this.#sealing = { ...this.#sealing, keys };
    this.#sealer?.setKey(keys.current);
    for (const opener of this.#openers) opener.setRing(keys);
    return true;
  }

  #open(port: number, label: "sync" | "control"): OpenedChannel {
    const config = this.#config;
    const { sockets } = this.#deps;
    const peers = config.unicastPeers;
    let socket: MulticastSocket | UnicastSocket;
    let description: string;
    if (peers === null) {
      socket = MulticastSocket.open(sockets, { ...config, port });
      description = `group ${config.address} port ${port}`;
    } else {
      socket = UnicastSocket.open(sockets, { ...config, port }, peers, port - config.port);
      description = `unicast to ${peers.map((peer) => peer.text).join(", ")}, port ${port}` +
        (port === config.port ? "" : ` (peers' ports +${port - config.port})`);
    }
    if (this.#sealing !== null) description += ", authenticated";
    return { socket, channel: this.guard(socket, label), description };
  }

  /**
   * `inner` with this daemon's guards for the port `label` (sealing,
   * opening, the peer list), or `inner` itself if it needs none.
   */
  guard(inner: PeerChannel, label: "sync" | "control"): PeerChannel {
    const peers = this.#config.unicastPeers ?? null;
    let opener: DatagramOpener | null = null;
    const sealing = this.#sealing;
    if (sealing !== null) {
      const clockUs = () => this.#deps.clock.now() * 1000;
      // The control port carries resync messages and HELLOs, and lossless delivery's messages.
      const maxPayload = label === "control"
        ? Math.max(
          CONTROL_MESSAGE_LENGTH,
          MAX_HELLO_BYTES,
          reliableDeliveryOn(this.#config) ? MAX_DELIVERY_MESSAGE_BYTES : 0,
        )
        : Infinity;
      const ownId = this.#sealer?.senderId ?? null;
      opener = new DatagramOpener(
        sealing.aead,
        sealing.keys,
        clockUs,
        ownId,
        label,
        maxPayload,
        this.#cluster,
      );
      this.#openers.push(opener);
    }
    const guards: ChannelGuards = {
      sealer: this.#sealer,
      opener,
      allowedSenders: peers === null
        ? null
        : new Set(peers.map((peer) => addressKey(peer.address))),
      arrival: peers === null || this.#deps.network === undefined
        ? null
        : new PeerRoutes(this.#deps.sockets, this.#config, peers, this.#deps.network),
      hellos: this.#hellos,
      gate: sealing === null ? null : new OpenGate(this.#deps.clock.monotonic()),
    };
    if (label === "control") this.#hellos?.attach(inner);
    if (guards.sealer === null && guards.allowedSenders === null) return inner;
    return new GuardedChannel(inner, guards, { ...this.#deps, label });
  }
}
