/**
 * `joold advertise [MODSOCKET]`: makes the local Jool instance multicast
 * its whole session table to the `joold` group (JOOLD_ADVERTISE), where a
 * running joold relays it to the peers, e.g. after a peer came back.
 *
 * @module
 */

import { EXIT_FAILURE } from "../exit_status.ts";
import { loadModsocketConfigOrDefault } from "../config/modsocket.ts";
import { ConfigError } from "../config/errors.ts";
import type { ModsocketResult } from "../config/modsocket.ts";
import type { Logger } from "../log.ts";
import { errorText } from "../error_text.ts";
import { isSyncDisabledRefusal } from "../sync/kernel_errors.ts";
import { ssEnableCommand } from "../jool/cli_hint.ts";
import { formatVersion } from "../jool/header.ts";
import { kernelAdvertises } from "../jool/kernel_behaviour.ts";
import { readJoolModuleVersion } from "../jool_module_version.ts";
import { openRequestLink, withSystem } from "./system.ts";

/** The command's arguments. */
export interface AdvertiseOptions {
  modsocketFile: string;
  /** True if MODSOCKET was not given: an absent default file means instance `default`. */
  modsocketDefaulted: boolean;
  /** The instance given by `-i`/`-f` instead of MODSOCKET, or null/absent. */
  instance?: string | null;
}

/** What advertising asks of the kernel. */
export interface KernelAdvertiser {
  /** JOOLD_ADVERTISE; throws KernelRefusalError with the kernel's message. */
  advertise(): Promise<void>;
  close(): void;
}

/** The machine, one function per step. */
export interface AdvertiseProbes {
  /** Throws ConfigError. */
  loadModsocket(file: string, defaulted: boolean): Promise<ModsocketResult>;
  /** Resolves the Jool family; throws JoolModuleMissingError if it is absent. */
  openKernel(instance: string): Promise<KernelAdvertiser>;
  /** The loaded module's version, or null if unknown. */
  moduleVersion(): Promise<number | null>;
}

/**
 * Asks the instance to advertise. Prints what happened and returns 0, or
 * logs one error line (the kernel's own message, the missing module, a bad
 * file) and returns 1.
 */
export async function advertise(
  options: AdvertiseOptions,
  probes: AdvertiseProbes,
  logger: Logger,
  print: (text: string) => void,
): Promise<number> {
  let instance: string;
  let enableSs: boolean;
  if ((options.instance ?? null) !== null) {
    instance = options.instance!;
    enableSs = true;
  } else {
    try {
      const { config, warnings } = await probes.loadModsocket(
        options.modsocketFile,
        options.modsocketDefaulted,
      );
      for (const warning of warnings) logger.warning(warning);
      instance = config.instance;
      enableSs = config.enableSs;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      logger.error(error.message);
      return EXIT_FAILURE;
    }
  }

  let kernel: KernelAdvertiser;
  try {
    kernel = await probes.openKernel(instance);
  } catch (error) {
    logger.error(errorText(error));
    return EXIT_FAILURE;
  }
  try {
    await kernel.advertise();
  } catch (error) {
    let line = errorText(error);
    if (isSyncDisabledRefusal(error)) {
      line += `; enable it with \`${ssEnableCommand(instance)}\`` +
        (enableSs ? " or start joold, which turns it on" : "");
    }
    logger.error(line);
    return EXIT_FAILURE;
  } finally {
    kernel.close();
  }
  const version = await probes.moduleVersion();
  if (version !== null && !kernelAdvertises(version)) {
    // The request succeeded, so the exit status stays 0; but the operator
    // must know that nothing went out.
    logger.warning(
      `Jool ${formatVersion(version)} accepts JOOLD_ADVERTISE but sends nothing (fixed in Jool ` +
        "4.1.11): no session was advertised. A joold of this project sends its table itself " +
        "when a peer asks: restart the joold of the node that lacks sessions and it asks " +
        "for them at start.",
    );
    return 0;
  }
  print(
    `Instance '${instance}' is advertising its session table: the kernel multicasts every ` +
      "session to the joold group, and a joold running for this instance sends them to its peers.",
  );
  return 0;
}

/** `joold advertise` on this machine. */
export async function runAdvertiseCommand(
  options: AdvertiseOptions,
  logger: Logger,
  print: (text: string) => void,
): Promise<number> {
  return await withSystem(logger, (tools) =>
    advertise(
      options,
      {
        loadModsocket: loadModsocketConfigOrDefault,
        openKernel: (instance) => openRequestLink(tools, instance),
        moduleVersion: () => Promise.resolve(readJoolModuleVersion(tools.libc, logger)),
      },
      logger,
      print,
    ));
}
