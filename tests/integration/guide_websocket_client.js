// The integration guide's WebSocketClient (seed/websocket-middleware-integration-guide.md,
// section 2.1 "Create WebSocket Client"), transcribed from TypeScript to
// JavaScript by erasing the TypeScript-only syntax and nothing else: type
// annotations, generic arguments, `private` modifiers and the optional-member
// marker `?:` are gone, each field declaration stays a class field, and every
// line of logic is kept as the guide wrote it. Keep it that way: this file is
// the proof that a client written against the guide works unchanged.
//
// browser_client_test.cc loads it as an ES module in headless Chromium, after
// defining globalThis.process = {env: {REACT_APP_WEBSOCKET_URL: 'ws://127.0.0.1:<port>'}}.

// In your frontend (e.g., src/utils/websocket.ts)

export class WebSocketClient {
  ws = null;
  clientId;
  reconnectAttempts = 0;
  maxReconnectAttempts = 5;
  reconnectDelay = 1000;
  subscriptions = new Set();

  constructor(clientId) {
    this.clientId = clientId;
  }

  connect() {
    const wsUrl = process.env.REACT_APP_WEBSOCKET_URL || 'ws://localhost:8002';
    this.ws = new WebSocket(`${wsUrl}/ws/${this.clientId}`);

    this.ws.onopen = () => {
      console.log('WebSocket connected');
      this.reconnectAttempts = 0;
      
      // Resubscribe to previously subscribed symbols
      this.subscriptions.forEach(symbol => {
        this.subscribe(symbol);
      });
    };

    this.ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.handleMessage(message);
    };

    this.ws.onclose = () => {
      console.log('WebSocket disconnected');
      this.reconnect();
    };

    this.ws.onerror = (error) => {
      console.error('WebSocket error:', error);
    };
  }

  subscribe(symbol) {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({
        action: 'subscribe',
        symbol: symbol
      }));
      this.subscriptions.add(symbol);
    }
  }

  unsubscribe(symbol) {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({
        action: 'unsubscribe',
        symbol: symbol
      }));
      this.subscriptions.delete(symbol);
    }
  }

  handleMessage(message) {
    switch (message.type) {
      case 'orderbook_update':
        // Emit event or call callback
        this.onOrderBookUpdate?.(message.symbol, message.data);
        break;
      case 'subscription_confirmed':
        console.log(`Subscribed to ${message.symbol}`);
        break;
      case 'error':
        console.error('WebSocket error:', message.message);
        break;
    }
  }

  reconnect() {
    if (this.reconnectAttempts < this.maxReconnectAttempts) {
      this.reconnectAttempts++;
      const delay = this.reconnectDelay * Math.pow(2, this.reconnectAttempts - 1);
      
      setTimeout(() => {
        console.log(`Attempting to reconnect (${this.reconnectAttempts}/${this.maxReconnectAttempts})`);
        this.connect();
      }, delay);
    }
  }

  disconnect() {
    if (this.ws) {
      this.ws.close();
    }
  }

  // Callback for order book updates
  onOrderBookUpdate;
}
