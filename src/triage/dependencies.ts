import { Dependencies, Services } from '../contract/services.ts';
import type { ServiceStart } from './LogEvidence.ts';

/**
 * The dependencies the checkout service calls, as its log lines name them, with the service that
 * stands behind each (its own log lines carry that name) and the setting that points at it.
 */
export const DEPENDENCIES: Record<string, { service: string; setting: string; field: keyof ServiceStart }> = {
  [Dependencies.payment]: { service: Services.payment, setting: 'STRIPE_API_BASE', field: 'paymentApiUrl' },
  [Dependencies.inventory]: {
    service: Services.inventory,
    setting: 'INVENTORY_API_URL',
    field: 'inventoryApiUrl',
  },
};

const DEPENDENCY_OF_SERVICE = new Map(
  Object.entries(DEPENDENCIES).map(([dependency, { service }]) => [service, dependency]),
);

/** The dependency a service is, by the `service` field of its log lines (any text: a map, not an object). */
export function dependencyOfService(service: string | null | undefined): string | undefined {
  return service ? DEPENDENCY_OF_SERVICE.get(service) : undefined;
}

/** A dependency the checkout calls, by the name its log lines give it; undefined for any other name. */
export function dependencyNamed(name: string): (typeof DEPENDENCIES)[string] | undefined {
  return Object.hasOwn(DEPENDENCIES, name) ? DEPENDENCIES[name] : undefined;
}
