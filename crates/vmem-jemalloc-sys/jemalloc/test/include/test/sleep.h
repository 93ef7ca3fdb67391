void sleep_ns(unsigned ns);
