export * from '../testing/MediaTestClient.js'; // moved; remove once nothing imports this path
