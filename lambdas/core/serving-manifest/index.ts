export * from './manifest';
export * from './manifest-store';
export * from './publish';
