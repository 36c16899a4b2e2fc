"""Run the newsletter CLI from a checkout: `python cli.py ...`."""

from newsletter.cli import main

if __name__ == "__main__":
    main()
