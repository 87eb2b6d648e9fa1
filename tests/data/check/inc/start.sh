python3 worker.py --from-include
