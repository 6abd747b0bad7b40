from holozero.cli import main

main()
