// Generated from the checkout service's GET /openapi.json by `npm run api:types`; do not edit.
export interface paths {
    "/api/carts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an empty cart
         * @description Creates an open cart owned by the caller (the token's subject). Add items, then check it out.
         */
        post: operations["createCart"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/carts/{cartId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a cart
         * @description The cart with its items, prices and total. Someone else's cart is not found.
         */
        get: operations["getCart"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/carts/{cartId}/items": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Add units of a product to a cart
         * @description Adds `quantity` units of `sku` (on top of any already there) and answers the whole cart. Reserves nothing: checkout does.
         */
        post: operations["addCartItem"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/orders/{orderId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a confirmed order
         * @description An order the caller placed, with the charge that paid it (`transactionId`). Someone else's order is not found.
         */
        get: operations["getOrder"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/webhooks/stripe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive the payment provider's events
         * @description Stripe sends its events here (`payment_intent.succeeded`, `payment_intent.payment_failed`, `charge.refunded`), signed in `Stripe-Signature` with the endpoint secret (STRIPE_WEBHOOK_SECRET). A checkout whose answer was lost is settled at once. An event sent twice changes nothing.
         */
        post: operations["receiveStripeEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/checkout/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Check out a cart: reserve stock, charge, confirm the order
         * @description Charges the card for the cart and confirms the order, exactly once.
         *
         *     Send an `Idempotency-Key` (any unique string per checkout, kept 24 hours) and retry with the same key and body
         *     on a network error, a 503 (after its `Retry-After`) or a 409 `IDEMPOTENCY_KEY_IN_USE` / `CHECKOUT_IN_PROGRESS`:
         *     the retry gets the first final answer again, byte for byte, marked `Idempotent-Replayed: true`, and never a
         *     second charge. A 4xx other than those is final: do not retry it. A 500 carries an `errorId` to quote.
         */
        post: operations["completeCheckout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    createCart: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new cart */
            201: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "cartId": "3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04"
                     *     }
                     */
                    "application/json": {
                        cartId: string;
                    };
                };
            };
            /** @description `MALFORMED_REQUEST`: Malformed request; `INVALID_URL`: Invalid URL; `INVALID_JSON`: Invalid JSON */
            400: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 400;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "MALFORMED_REQUEST" | "INVALID_URL" | "INVALID_JSON";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNAUTHENTICATED`: Unauthenticated */
            401: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 401;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNAUTHENTICATED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `REQUEST_TIMEOUT`: Request timeout */
            408: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 408;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "REQUEST_TIMEOUT";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `PAYLOAD_TOO_LARGE`: Payload too large */
            413: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 413;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "PAYLOAD_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `URL_TOO_LONG`: URL too long */
            414: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 414;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "URL_TOO_LONG";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNSUPPORTED_MEDIA_TYPE`: Unsupported media type */
            415: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 415;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNSUPPORTED_MEDIA_TYPE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `HEADERS_TOO_LARGE`: Request headers too large */
            431: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 431;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "HEADERS_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `INTERNAL_SERVER_ERROR`: Internal server error */
            500: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 500;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "INTERNAL_SERVER_ERROR";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `SERVER_OVERLOADED`: Server overloaded; `SHUTTING_DOWN`: Shutting down; `SERVICE_TEMPORARILY_UNAVAILABLE`: Service temporarily unavailable */
            503: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 503;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "SERVER_OVERLOADED" | "SHUTTING_DOWN" | "SERVICE_TEMPORARILY_UNAVAILABLE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    getCart: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                cartId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The cart */
            200: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "cartId": "3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04",
                     *       "status": "open",
                     *       "currency": "usd",
                     *       "items": [
                     *         {
                     *           "sku": "sku_mug",
                     *           "name": "Steadfast mug",
                     *           "quantity": 2,
                     *           "unitPriceCents": 1400,
                     *           "lineTotalCents": 2800
                     *         }
                     *       ],
                     *       "totalCents": 2800
                     *     }
                     */
                    "application/json": {
                        cartId: string;
                        status: "open" | "checked_out";
                        currency: string;
                        items: {
                            sku: string;
                            name: string;
                            quantity: number;
                            unitPriceCents: number;
                            lineTotalCents: number;
                        }[];
                        totalCents: number;
                    };
                };
            };
            /** @description `MALFORMED_REQUEST`: Malformed request; `INVALID_URL`: Invalid URL; `VALIDATION_FAILED`: Validation failed */
            400: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 400;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "MALFORMED_REQUEST" | "INVALID_URL" | "VALIDATION_FAILED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNAUTHENTICATED`: Unauthenticated */
            401: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 401;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNAUTHENTICATED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_NOT_FOUND`: Cart not found */
            404: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 404;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_NOT_FOUND";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `REQUEST_TIMEOUT`: Request timeout */
            408: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 408;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "REQUEST_TIMEOUT";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `URL_TOO_LONG`: URL too long */
            414: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 414;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "URL_TOO_LONG";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `HEADERS_TOO_LARGE`: Request headers too large */
            431: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 431;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "HEADERS_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `INTERNAL_SERVER_ERROR`: Internal server error */
            500: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 500;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "INTERNAL_SERVER_ERROR";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `SERVER_OVERLOADED`: Server overloaded; `SHUTTING_DOWN`: Shutting down; `SERVICE_TEMPORARILY_UNAVAILABLE`: Service temporarily unavailable */
            503: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 503;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "SERVER_OVERLOADED" | "SHUTTING_DOWN" | "SERVICE_TEMPORARILY_UNAVAILABLE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    addCartItem: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                cartId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    sku: string;
                    quantity: number;
                };
            };
        };
        responses: {
            /** @description The cart, with the item added */
            200: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "cartId": "3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04",
                     *       "status": "open",
                     *       "currency": "usd",
                     *       "items": [
                     *         {
                     *           "sku": "sku_mug",
                     *           "name": "Steadfast mug",
                     *           "quantity": 2,
                     *           "unitPriceCents": 1400,
                     *           "lineTotalCents": 2800
                     *         }
                     *       ],
                     *       "totalCents": 2800
                     *     }
                     */
                    "application/json": {
                        cartId: string;
                        status: "open" | "checked_out";
                        currency: string;
                        items: {
                            sku: string;
                            name: string;
                            quantity: number;
                            unitPriceCents: number;
                            lineTotalCents: number;
                        }[];
                        totalCents: number;
                    };
                };
            };
            /** @description `MALFORMED_REQUEST`: Malformed request; `INVALID_URL`: Invalid URL; `INVALID_JSON`: Invalid JSON; `MISSING_REQUIRED_FIELDS`: Missing required fields; `VALIDATION_FAILED`: Validation failed; `UNKNOWN_SKU`: Unknown SKU */
            400: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 400;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "MALFORMED_REQUEST" | "INVALID_URL" | "INVALID_JSON" | "MISSING_REQUIRED_FIELDS" | "VALIDATION_FAILED" | "UNKNOWN_SKU";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNAUTHENTICATED`: Unauthenticated */
            401: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 401;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNAUTHENTICATED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_NOT_FOUND`: Cart not found */
            404: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 404;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_NOT_FOUND";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `REQUEST_TIMEOUT`: Request timeout */
            408: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 408;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "REQUEST_TIMEOUT";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_ALREADY_CHECKED_OUT`: Cart already checked out; `CHECKOUT_IN_PROGRESS`: Checkout in progress */
            409: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 409;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_ALREADY_CHECKED_OUT" | "CHECKOUT_IN_PROGRESS";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `PAYLOAD_TOO_LARGE`: Payload too large */
            413: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 413;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "PAYLOAD_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `URL_TOO_LONG`: URL too long */
            414: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 414;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "URL_TOO_LONG";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNSUPPORTED_MEDIA_TYPE`: Unsupported media type */
            415: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 415;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNSUPPORTED_MEDIA_TYPE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_LIMIT_EXCEEDED`: Cart limit exceeded */
            422: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 422;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_LIMIT_EXCEEDED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `HEADERS_TOO_LARGE`: Request headers too large */
            431: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 431;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "HEADERS_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `INTERNAL_SERVER_ERROR`: Internal server error */
            500: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 500;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "INTERNAL_SERVER_ERROR";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `SERVER_OVERLOADED`: Server overloaded; `SHUTTING_DOWN`: Shutting down; `SERVICE_TEMPORARILY_UNAVAILABLE`: Service temporarily unavailable */
            503: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 503;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "SERVER_OVERLOADED" | "SHUTTING_DOWN" | "SERVICE_TEMPORARILY_UNAVAILABLE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    getOrder: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                orderId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The order */
            200: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "orderId": "9b2e4f1a-6c3d-4e8b-a7f0-1d2c3b4a5e6f",
                     *       "status": "CONFIRMED",
                     *       "cartId": "3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04",
                     *       "transactionId": "pi_3Pq8rT2eZvKYlo2C1a2b3c4d",
                     *       "amountCents": 2800,
                     *       "currency": "usd",
                     *       "items": [
                     *         {
                     *           "sku": "sku_mug",
                     *           "quantity": 2
                     *         }
                     *       ],
                     *       "createdAt": "2026-11-30T08:00:00.000Z"
                     *     }
                     */
                    "application/json": {
                        orderId: string;
                        status: string;
                        cartId: string;
                        transactionId: string;
                        amountCents: number;
                        currency: string;
                        items: {
                            sku: string;
                            quantity: number;
                        }[];
                        createdAt: string;
                    };
                };
            };
            /** @description `MALFORMED_REQUEST`: Malformed request; `INVALID_URL`: Invalid URL; `VALIDATION_FAILED`: Validation failed */
            400: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 400;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "MALFORMED_REQUEST" | "INVALID_URL" | "VALIDATION_FAILED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNAUTHENTICATED`: Unauthenticated */
            401: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 401;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNAUTHENTICATED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `ORDER_NOT_FOUND`: Order not found */
            404: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 404;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "ORDER_NOT_FOUND";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `REQUEST_TIMEOUT`: Request timeout */
            408: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 408;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "REQUEST_TIMEOUT";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `URL_TOO_LONG`: URL too long */
            414: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 414;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "URL_TOO_LONG";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `HEADERS_TOO_LARGE`: Request headers too large */
            431: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 431;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "HEADERS_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `INTERNAL_SERVER_ERROR`: Internal server error */
            500: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 500;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "INTERNAL_SERVER_ERROR";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `SERVER_OVERLOADED`: Server overloaded; `SHUTTING_DOWN`: Shutting down; `SERVICE_TEMPORARILY_UNAVAILABLE`: Service temporarily unavailable */
            503: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 503;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "SERVER_OVERLOADED" | "SHUTTING_DOWN" | "SERVICE_TEMPORARILY_UNAVAILABLE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    receiveStripeEvent: {
        parameters: {
            query?: never;
            header?: {
                "stripe-signature"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event is handled (or was before, or is not about a checkout) */
            200: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "received": true
                     *     }
                     */
                    "application/json": {
                        /** @enum {boolean} */
                        received: true;
                    };
                };
            };
            /** @description `MALFORMED_REQUEST`: Malformed request; `INVALID_URL`: Invalid URL; `WEBHOOK_NOT_VERIFIED`: Webhook not verified */
            400: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 400;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "MALFORMED_REQUEST" | "INVALID_URL" | "WEBHOOK_NOT_VERIFIED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `REQUEST_TIMEOUT`: Request timeout */
            408: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 408;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "REQUEST_TIMEOUT";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `URL_TOO_LONG`: URL too long */
            414: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 414;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "URL_TOO_LONG";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `HEADERS_TOO_LARGE`: Request headers too large */
            431: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 431;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "HEADERS_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `INTERNAL_SERVER_ERROR`: Internal server error */
            500: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 500;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "INTERNAL_SERVER_ERROR";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `SERVER_OVERLOADED`: Server overloaded; `SHUTTING_DOWN`: Shutting down; `SERVICE_TEMPORARILY_UNAVAILABLE`: Service temporarily unavailable */
            503: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 503;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "SERVER_OVERLOADED" | "SHUTTING_DOWN" | "SERVICE_TEMPORARILY_UNAVAILABLE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    completeCheckout: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes retries safe: one key, one checkout. Scoped to the caller.
                 * @example checkout-3f6c2a9e-1
                 */
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    cartId: string;
                    paymentToken: string;
                    userId?: string;
                };
            };
        };
        responses: {
            /** @description The order is confirmed and the card charged */
            201: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "orderId": "9b2e4f1a-6c3d-4e8b-a7f0-1d2c3b4a5e6f",
                     *       "transactionId": "pi_3Pq8rT2eZvKYlo2C1a2b3c4d",
                     *       "status": "CONFIRMED"
                     *     }
                     */
                    "application/json": {
                        orderId: string;
                        transactionId: string;
                        /** @enum {string} */
                        status: "CONFIRMED";
                    };
                };
            };
            /** @description `MALFORMED_REQUEST`: Malformed request; `INVALID_URL`: Invalid URL; `INVALID_JSON`: Invalid JSON; `MISSING_REQUIRED_FIELDS`: Missing required fields; `VALIDATION_FAILED`: Validation failed; `PAYMENT_METHOD_INVALID`: Payment method invalid */
            400: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 400;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "MALFORMED_REQUEST" | "INVALID_URL" | "INVALID_JSON" | "MISSING_REQUIRED_FIELDS" | "VALIDATION_FAILED" | "PAYMENT_METHOD_INVALID";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNAUTHENTICATED`: Unauthenticated */
            401: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 401;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNAUTHENTICATED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `PAYMENT_DECLINED`: Payment declined */
            402: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 402;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "PAYMENT_DECLINED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_NOT_FOUND`: Cart not found */
            404: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 404;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_NOT_FOUND";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `REQUEST_TIMEOUT`: Request timeout */
            408: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 408;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "REQUEST_TIMEOUT";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_ALREADY_CHECKED_OUT`: Cart already checked out; `CART_EMPTY`: Cart empty; `CHECKOUT_IN_PROGRESS`: Checkout in progress; `INVENTORY_CONFLICT`: Insufficient stock; `IDEMPOTENCY_KEY_IN_USE`: Idempotency key in use */
            409: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 409;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_ALREADY_CHECKED_OUT" | "CART_EMPTY" | "CHECKOUT_IN_PROGRESS" | "INVENTORY_CONFLICT" | "IDEMPOTENCY_KEY_IN_USE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `PAYLOAD_TOO_LARGE`: Payload too large */
            413: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 413;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "PAYLOAD_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `URL_TOO_LONG`: URL too long */
            414: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 414;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "URL_TOO_LONG";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `UNSUPPORTED_MEDIA_TYPE`: Unsupported media type */
            415: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 415;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "UNSUPPORTED_MEDIA_TYPE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `CART_LIMIT_EXCEEDED`: Cart limit exceeded; `IDEMPOTENCY_KEY_MISMATCH`: Idempotency key reused */
            422: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 422;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "CART_LIMIT_EXCEEDED" | "IDEMPOTENCY_KEY_MISMATCH";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `RATE_LIMITED`: Too many requests */
            429: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 429;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "RATE_LIMITED";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `HEADERS_TOO_LARGE`: Request headers too large */
            431: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 431;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "HEADERS_TOO_LARGE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `INTERNAL_SERVER_ERROR`: Internal server error */
            500: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 500;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "INTERNAL_SERVER_ERROR";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `SERVER_OVERLOADED`: Server overloaded; `SHUTTING_DOWN`: Shutting down; `SERVICE_TEMPORARILY_UNAVAILABLE`: Service temporarily unavailable */
            503: {
                headers: {
                    /** @description The request id: the one sent, or one made up. Quote it (and any errorId) to support. */
                    "x-request-id"?: string;
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: number;
                    /** @description Requests allowed in the window. */
                    "x-ratelimit-limit"?: number;
                    /** @description Requests left in the window. */
                    "x-ratelimit-remaining"?: number;
                    /** @description Seconds until the window starts again. */
                    "x-ratelimit-reset"?: number;
                    /** @description `true` when this is the stored answer to an earlier request with the same Idempotency-Key. */
                    "idempotent-replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": {
                        type: string;
                        title: string;
                        /** @enum {number} */
                        status: 503;
                        detail: string;
                        /**
                         * @description Stable error code
                         * @enum {unknown}
                         */
                        error: "SERVER_OVERLOADED" | "SHUTTING_DOWN" | "SERVICE_TEMPORARILY_UNAVAILABLE";
                        message: string;
                        errorId?: string;
                        retryAfterSeconds?: number;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
}
